using System;
using System.IO;
using System.Threading;

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
    /// over the target (an atomic replacement on one file system). On any failure the temporary
    /// file is deleted and the target is untouched.
    /// </summary>
    public static void SaveAtomically(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"{path} has no folder.", nameof(path));
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var stream = WrapForTesting?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // The temporary file stays behind; the target is still intact.
            }

            throw;
        }
    }
}
