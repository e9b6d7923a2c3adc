// How README.md's parts are found, in one place for the build and the tests. The build compiles
// this file as its ExpandReadmeExcerpts task (build/ReadmeExcerpts.targets), which copies README's
// code and sections into the package READMEs and the documentation site; tests/Unit and
// tests/Packaging compile it too (with README_SECTIONS_ONLY, which leaves the task out) to find
// the code they run and compare. So the code a package shows is, by construction, the code the
// tests ran.
#nullable enable

using System;
using System.Collections.Generic;
using System.IO;
using System.Text.RegularExpressions;

namespace FunctionalBackprop.Build
{
    /// <summary>
    /// Sections of a Markdown text and their code blocks. The section under a heading (of any
    /// level, named by its text) runs from the line after it to the next heading of the same or a
    /// higher level; lines inside code blocks are never headings. A section's block of a language
    /// is its first block fenced as that language (```csharp).
    /// </summary>
    public static class ReadmeSections
    {
        /// <summary>The lines of the section under <paramref name="heading"/>, without the heading; null when there is no such heading.</summary>
        public static string? Body(string markdown, string heading)
        {
            var body = new List<string>();
            var inSection = false;
            var sectionLevel = 0;
            var fenced = false;
            foreach (var line in markdown.Replace("\r\n", "\n").Split('\n'))
            {
                var fence = line.StartsWith("```", StringComparison.Ordinal);
                var match = fenced || fence ? Match.Empty : Regex.Match(line, @"^(#{1,6}) +(.*?)\s*$");
                if (match.Success)
                {
                    var level = match.Groups[1].Length;
                    if (inSection && level <= sectionLevel)
                    {
                        break;
                    }

                    if (!inSection && match.Groups[2].Value == heading)
                    {
                        inSection = true;
                        sectionLevel = level;
                        continue;
                    }
                }

                if (fence)
                {
                    fenced = !fenced;
                }

                if (inSection)
                {
                    body.Add(line);
                }
            }

            return inSection ? string.Join("\n", body) : null;
        }

        /// <summary>
        /// The code of the first block fenced as <paramref name="language"/> in the section under
        /// <paramref name="heading"/>, without its fences; null when the section or the block is missing.
        /// </summary>
        public static string? Block(string markdown, string heading, string language)
        {
            var body = Body(markdown, heading);
            if (body is null)
            {
                return null;
            }

            var code = new List<string>();
            var inBlock = false;
            var fenced = false;
            foreach (var line in body.Split('\n'))
            {
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    if (inBlock)
                    {
                        return string.Join("\n", code);
                    }

                    fenced = !fenced;
                    inBlock = fenced && line.TrimEnd() == "```" + language;
                    continue;
                }

                if (inBlock)
                {
                    code.Add(line);
                }
            }

            return null;
        }
    }

#if !README_SECTIONS_ONLY
    /// <summary>
    /// Copies a template (TemplateFile, or the text Template) to OutputFile with README's parts in
    /// place of its markers:
    /// <c>{{README.md ## Heading ```lang}}</c> becomes that section's block of the language, fences
    /// included; <c>{{README.md ## Heading}}</c> becomes the section's text. A marker that finds
    /// nothing, or that is of neither form, is an error naming it. OutputFile is written only when
    /// its text changes.
    /// </summary>
    public sealed class ExpandReadmeExcerpts : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public string Readme { get; set; } = string.Empty;

        public string? Template { get; set; }

        public string? TemplateFile { get; set; }

        [Microsoft.Build.Framework.Required]
        public string OutputFile { get; set; } = string.Empty;

        public override bool Execute()
        {
            var readme = File.ReadAllText(Readme);
            var template = (string.IsNullOrEmpty(TemplateFile) ? Template ?? string.Empty : File.ReadAllText(TemplateFile)).Replace("\r\n", "\n");
            var source = string.IsNullOrEmpty(TemplateFile) ? OutputFile : TemplateFile;
            var failed = false;
            var text = Regex.Replace(template, @"\{\{README\.md[^}]*\}\}", marker =>
            {
                var parts = Regex.Match(marker.Value, @"^\{\{README\.md ## (?<heading>[^`]+?)(?: ```(?<language>\w+))?\}\}$");
                if (!parts.Success)
                {
                    Log.LogError("{0}: the marker {1} names no README.md section; write {{{{README.md ## Heading}}}} for a section's text or {{{{README.md ## Heading ```lang}}}} for its code.", source, marker.Value);
                    failed = true;
                    return marker.Value;
                }

                var heading = parts.Groups["heading"].Value;
                var language = parts.Groups["language"].Value;
                var found = language.Length > 0 ? ReadmeSections.Block(readme, heading, language) : ReadmeSections.Body(readme, heading)?.Trim();
                if (found is null)
                {
                    Log.LogError("{0}: README.md has no {1} for the marker {2}.", source,
                        language.Length > 0 ? $"```{language} block in the section '{heading}'" : $"section '{heading}'", marker.Value);
                    failed = true;
                    return marker.Value;
                }

                return language.Length > 0 ? $"```{language}\n{found}\n```" : found;
            });
            if (failed)
            {
                return false;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(OutputFile))!);
            if (!File.Exists(OutputFile) || File.ReadAllText(OutputFile) != text)
            {
                File.WriteAllText(OutputFile, text);
            }

            return true;
        }
    }
#endif
}
