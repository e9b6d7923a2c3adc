namespace FunctionalBackprop.Core

open System
open System.IO

/// Writing a file so that a failure never damages the one already there.
module AtomicFile =

    /// Writes a file through `write` into a new temporary file in the target's folder, flushes
    /// it to disk, then renames it over `path` (an atomic replacement on one file system): a
    /// reader, or a process killed at any point, sees the previous file whole or the new one
    /// whole, never a torn one. On any failure the temporary file is deleted, the target is left
    /// as it was, and the exception goes on.
    let write (path: string) (write: Stream -> unit) : unit =
        if isNull path then nullArg "path"
        let full = Path.GetFullPath path
        let folder =
            match Path.GetDirectoryName full with
            | null -> invalidArg "path" $"{path} has no folder."
            | folder -> folder
        let temporary = Path.Combine(folder, $".{Path.GetFileName full}.{Guid.NewGuid():N}.tmp")
        try
            (
                use file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None)
                write file
                file.Flush(flushToDisk = true)
            )
            File.Move(temporary, full, overwrite = true)
        with _ ->
            // The temporary file may stay behind if it cannot be deleted; the target is intact.
            try File.Delete temporary with :? IOException -> ()
            reraise ()
