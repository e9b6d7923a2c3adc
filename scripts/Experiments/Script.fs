namespace FunctionalBackprop.Experiments

open System.Diagnostics

/// What every experiment script does: read its command line, run the quick or the full
/// settings, print the table, write the plots and say how long it took.
module Script =

    /// Runs an experiment for a script, given its command line (fsi.CommandLineArgs), its two
    /// settings, and its run, table and plot functions.
    let run (commandLine: string[]) (quick: 'S) (full: 'S) (experiment: 'S -> 'R) (table: 'R -> string) (plot: string -> 'R -> string list) : unit =
        let arguments = ScriptArguments.start commandLine
        let clock = Stopwatch.StartNew()
        let result = experiment (if arguments.Quick then quick else full)
        printfn "%s\n" (table result)
        for path in plot arguments.OutputFolder result do
            printfn "wrote %s" path
        printfn "done in %.1f s" clock.Elapsed.TotalSeconds
