using System;
using System.IO;
using System.Threading;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop;

/// <summary>Writing model files so that a failure never damages the file already there.</summary>
internal static class ModelStorage
{
    private static readonly AsyncLocal<Func<Stream, Stream>?> Wrap = new();

    /// <summary>
    /// Wraps the file stream of saves made by the current thread of execution (an AsyncLocal, so
    /// other threads are unaffected); tests use it to make a save fail part-way.
    /// </summary>
    internal static Func<Stream, Stream>? WrapForTesting
    {
        get => Wrap.Value;
        set => Wrap.Value = value;
    }

    /// <summary>Reads a model file with the given stream reader, closing the file afterwards.</summary>
    public static TResult Read<TResult>(string path, Func<Stream, TResult> read)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return read(stream);
    }

    /// <summary>
    /// Writes to a new temporary file in the target's folder, flushes it to disk, then renames it
    /// over the target (the core's AtomicFile.write): on any failure the temporary file is deleted
    /// and the target is untouched.
    /// </summary>
    public static void SaveAtomically(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        Core.AtomicFile.write(path, FuncConvert.FromAction<Stream>(file =>
        {
            var stream = WrapForTesting?.Invoke(file) ?? file;
            write(stream);
            stream.Flush();
        }));
    }
}
