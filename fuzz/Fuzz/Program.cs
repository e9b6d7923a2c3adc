using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SharpFuzz;

namespace FunctionalBackprop.Fuzz;

/// <summary>
/// The fuzzing harness's entry point.
///
///   dotnet FunctionalBackprop.Fuzz.dll TARGET                   under afl-fuzz: SharpFuzz's fork server (stdin once otherwise)
///   dotnet FunctionalBackprop.Fuzz.dll TARGET --replay FOLDER   every file in FOLDER through TARGET, in this process
///   dotnet FunctionalBackprop.Fuzz.dll seed FOLDER              writes the seed corpus (FOLDER/model, idx, csv)
///
/// TARGET is model, idx or csv (see <see cref="Targets"/>). A target returns normally when the
/// reader accepted the input or refused it with the one exception its contract allows; anything
/// else escapes and afl-fuzz records the input as a crash.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "seed")
        {
            Seeds.Write(args[1]);
            return 0;
        }

        if (args.Length >= 1 && Targets.ByName.TryGetValue(args[0], out var target))
        {
            if (args.Length == 3 && args[1] == "--replay")
            {
                return Replay(args[0], target, args[2]);
            }

            if (args.Length == 1)
            {
                Fuzzer.OutOfProcess.Run(stream => target(ReadAll(stream)));
                return 0;
            }
        }

        Console.Error.WriteLine($"usage: FunctionalBackprop.Fuzz ({string.Join("|", Targets.ByName.Keys)}) [--replay FOLDER] | seed FOLDER");
        return 2;
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Runs every file of a folder (afl-fuzz's queue or crashes) through a target; 1 if any failed.</summary>
    private static int Replay(string name, Action<byte[]> target, string folder)
    {
        var files = Directory.Exists(folder)
            ? Directory.GetFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.') && Path.GetFileName(f) != "README.txt").OrderBy(f => f, StringComparer.Ordinal).ToArray()
            : Array.Empty<string>();
        var failures = new List<string>();
        foreach (var file in files)
        {
            try
            {
                target(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failures.Add($"{file}: {e}");
            }
        }

        Console.WriteLine($"{name}: replayed {files.Length} inputs from {folder}, {failures.Count} failed");
        foreach (var failure in failures)
        {
            Console.WriteLine(failure);
        }

        return failures.Count == 0 ? 0 : 1;
    }
}
