namespace FunctionalBackprop.Core

open System
open System.Runtime.ExceptionServices
open System.Threading

/// Work that the product threads share: parts 0 … count − 1, each independent of the others.
[<AbstractClass>]
type internal ParallelWork() =
    /// Runs one part.
    abstract Run: part: int -> unit

/// The threads of large managed products: one background thread per processor after the first,
/// started at the first product that uses them and kept (a product costs two signals per thread
/// and allocates nothing); the calling thread runs part 0. One product at a time uses them: the
/// caller holds the lock (enter … exit) from before it describes its work until the work is
/// done, so two large products never oversubscribe the cores (the second waits, as the native
/// provider's large products do) nor share a description.
module internal GemmThreads =

    // Spinning before blocking: the products of a training step follow each other within
    // microseconds, and a thread that went to sleep takes tens of microseconds to wake.
    let private spin = 2047
    let private gate = obj ()
    let mutable private current: ParallelWork = Unchecked.defaultof<_>
    let mutable private parts = 0
    let private failures: exn[] = Array.zeroCreate Environment.ProcessorCount

    let private signals =
        lazy
            (let count = Environment.ProcessorCount - 1
             let starts = Array.init count (fun _ -> new ManualResetEventSlim(false, spin))
             let finishes = Array.init count (fun _ -> new ManualResetEventSlim(false, spin))
             for k in 1 .. count do
                 let loop () =
                     let start, finish = starts.[k - 1], finishes.[k - 1]
                     while true do
                         start.Wait()
                         start.Reset()
                         try
                             if k < parts then current.Run k
                         with e -> failures.[k] <- e
                         finish.Set()
                 Thread(ThreadStart(loop), IsBackground = true, Name = $"FunctionalBackprop product {k}").Start()
             starts, finishes)

    /// The most threads a product can use: the processor count.
    let available = Environment.ProcessorCount

    /// Takes the threads for one product (waits while another has them).
    let enter () = Monitor.Enter gate

    /// Gives the threads back.
    let exit () = Monitor.Exit gate

    /// Runs work's parts 0 … count − 1 (count ≤ available), part 0 on this thread, and returns when
    /// all have finished; rethrows the exception of the lowest part that threw, if any. The caller
    /// holds the threads (enter).
    [<HotPath>]
    let run (work: ParallelWork) (count: int) : unit =
        if count <= 1 then work.Run 0
        else
            if not (Monitor.IsEntered gate) then invalidOp "GemmThreads.run needs the threads taken (enter) first."
            let starts, finishes = signals.Force()
            current <- work
            parts <- count
            for k in 1 .. count - 1 do starts.[k - 1].Set()
            try work.Run 0 with e -> failures.[0] <- e
            for k in 1 .. count - 1 do
                finishes.[k - 1].Wait()
                finishes.[k - 1].Reset()
            current <- Unchecked.defaultof<_>
            let mutable k = 0
            while k < count && isNull failures.[k] do k <- k + 1
            if k < count then
                let e = failures.[k]
                Array.Clear failures
                ExceptionDispatchInfo.Capture(e).Throw()
