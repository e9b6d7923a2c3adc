using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace FunctionalBackprop.Packaging;

/// <summary>A line diff for failure messages: only the changed lines, each with a little context.</summary>
public static class LineDiff
{
    /// <summary>
    /// The lines of <paramref name="expected"/> missing from <paramref name="actual"/> ("-") and the
    /// lines added ("+"), in order, from a longest common subsequence, with up to
    /// <paramref name="context"/> unchanged lines around each change; "" when the texts' lines agree.
    /// </summary>
    public static string Between(string expected, string actual, int context = 2)
    {
        var a = Lines(expected);
        var b = Lines(actual);

        // common[i, j]: the length of the longest common subsequence of a[i..] and b[j..].
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var script = new List<(char Kind, string Line, int LineNumber)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                script.Add((' ', a[x], x + 1));
                x++;
                y++;
            }
            else if (x < a.Length && (y == b.Length || common[x + 1, y] >= common[x, y + 1]))
            {
                script.Add(('-', a[x], x + 1));
                x++;
            }
            else
            {
                script.Add(('+', b[y], x + 1));
                y++;
            }
        }

        var changed = script.Select((step, index) => (step, index)).Where(s => s.step.Kind != ' ').Select(s => s.index).ToList();
        if (changed.Count == 0)
        {
            return string.Empty;
        }

        var shown = new SortedSet<int>(changed.SelectMany(i => Enumerable.Range(i - context, 2 * context + 1)).Where(i => i >= 0 && i < script.Count));
        var text = new StringBuilder();
        var previous = -2;
        foreach (var i in shown)
        {
            if (i != previous + 1)
            {
                text.Append("@@ line ").Append(script[i].LineNumber).Append(" @@\n");
            }

            text.Append(script[i].Kind).Append(' ').Append(script[i].Line).Append('\n');
            previous = i;
        }

        return text.ToString();
    }

    private static string[] Lines(string text) => text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');
}
