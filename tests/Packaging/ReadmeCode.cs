using System.Text.RegularExpressions;

namespace FunctionalBackprop.Packaging;

/// <summary>
/// Code blocks of a Markdown text. The quick starts are README.md's first ```csharp and first
/// ```fsharp blocks, the same blocks that tests/Unit and tests/Properties run in process.
/// </summary>
public static class ReadmeCode
{
    /// <summary>The code of the first block fenced as <paramref name="language"/>, without its fences; "" when there is none.</summary>
    public static string FirstBlock(string markdown, string language) =>
        Regex.Match(markdown.Replace("\r\n", "\n"), "```" + Regex.Escape(language) + "\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
}
