/// Where the repository is, for tests that read its files or run its scripts.
module FunctionalBackprop.Properties.Repository

open System
open System.IO

/// The repository's root: the first folder above the test binaries that holds the solution.
let root () : string =
    let rec up (folder: DirectoryInfo) =
        if isNull folder then failwith "FunctionalBackprop.sln not found above the test binaries."
        elif File.Exists(Path.Combine(folder.FullName, "FunctionalBackprop.sln")) then folder.FullName
        else up folder.Parent
    up (DirectoryInfo AppContext.BaseDirectory)
