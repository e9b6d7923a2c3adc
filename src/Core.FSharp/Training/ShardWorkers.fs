namespace FunctionalBackprop.Core

open System
open System.Runtime.ExceptionServices
open System.Threading

/// Threads that, with the calling thread, run the shards of a training run's mini-batches at
/// once: shard 0 on the caller, shard k on worker k. Made once per run and reused by every batch
/// (a batch costs two signals per worker and allocates nothing); every thread products through
/// the caller's GEMM provider, each on one thread (see Shards).
type internal ShardWorkers(count: int, work: int -> unit) =
    // Spinning before blocking: batches follow each other within microseconds, and a worker that
    // went to sleep takes tens of microseconds to wake, as long as a small batch's whole shard.
    let spin = 2047
    let provider = Gemm.provider ()
    let starts = Array.init (count - 1) (fun _ -> new ManualResetEventSlim(false, spin))
    let finishes = Array.init (count - 1) (fun _ -> new ManualResetEventSlim(false, spin))
    let failures: exn[] = Array.zeroCreate count
    let mutable stopping = false

    [<HotPath>]
    let loop (k: int) () =
        GemmScope.Current <- provider
        GemmScope.SingleThreaded <- true
        let start, finish = starts.[k - 1], finishes.[k - 1]
        let mutable running = true
        while running do
            start.Wait()
            start.Reset()
            if Volatile.Read(&stopping) then running <- false
            else
                try work k
                with e -> failures.[k] <- e
                finish.Set()

    let threads =
        Array.init (count - 1) (fun i ->
            let t = Thread(ThreadStart(loop (i + 1)), IsBackground = true, Name = $"FunctionalBackprop shard {i + 1}")
            t.Start()
            t)

    /// Runs work 0 … count − 1 at once and returns when all have finished; rethrows the exception
    /// of the lowest shard that threw, if any.
    [<HotPath>]
    member _.Run() : unit =
        for s in starts do s.Set()
        let saved = GemmScope.SingleThreaded
        GemmScope.SingleThreaded <- true
        try
            try work 0 with e -> failures.[0] <- e
        finally
            GemmScope.SingleThreaded <- saved
        for f in finishes do
            f.Wait()
            f.Reset()
        let mutable k = 0
        while k < count && isNull failures.[k] do k <- k + 1
        if k < count then
            let e = failures.[k]
            Array.Clear failures
            ExceptionDispatchInfo.Capture(e).Throw()

    interface IDisposable with
        member _.Dispose() =
            Volatile.Write(&stopping, true)
            for s in starts do s.Set()
            for t in threads do t.Join()
            for e in Array.append starts finishes do e.Dispose()
