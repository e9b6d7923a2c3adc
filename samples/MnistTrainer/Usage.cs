using System;
using System.Linq;

namespace FunctionalBackprop.Samples;

/// <summary>
/// How the samples end on an error: one line on standard error, no stack trace, and the exit
/// code that says whose the error is: 2 for the command line (usage), 1 for the run.
/// </summary>
internal static class Usage
{
    /// <summary>The exit code of a command line that cannot run as given.</summary>
    public const int UsageError = 2;

    /// <summary>The exit code of a run that failed.</summary>
    public const int RunError = 1;

    /// <summary>"error: " and the message on one line (a parser's message may list choices line by line).</summary>
    public static string Line(string message) =>
        "error: " + string.Join(" ", message.Split(new[] { '\n', '\r', '\t' }, StringSplitOptions.RemoveEmptyEntries).Select(part => part.Trim()));

    /// <summary>Prints the error's line and returns <paramref name="code"/>.</summary>
    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine(Line(message));
        return code;
    }
}
