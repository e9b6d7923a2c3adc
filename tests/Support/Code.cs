using System.Linq;
using System.Text.RegularExpressions;

namespace FunctionalBackprop.Testing;

/// <summary>Code as README shows it and as the tests run it, compared line by line.</summary>
internal static class Code
{
    /// <summary>
    /// Code without blank lines, indentation, line-ending differences or using directives (README's
    /// blocks and the test files that run them import differently), to compare a README block with
    /// the region of a test that runs it.
    /// </summary>
    public static string Normalise(string code) =>
        string.Join("\n", code.Replace("\r\n", "\n").Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !Regex.IsMatch(line, @"^using [A-Za-z.]+;$")));
}
