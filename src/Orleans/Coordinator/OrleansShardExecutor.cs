using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Security.Cryptography;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Wire;
using FunctionalBackprop.Orleans.Workers;
using Orleans;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>
/// The coordinator's side of a run: the training fold calls <see cref="Compute"/> once per
/// mini-batch, and this sends the parameters to the ready workers, asks each for its shards'
/// shares and writes them where the fold adds them in shard order. A worker that fails is started
/// again (see <see cref="WorkerPool"/>) and its shards are computed by the others meanwhile: a
/// share is a pure function of the parameters and the data, so the result does not change. The
/// fold runs on one thread and waits here.
/// </summary>
internal sealed class OrleansShardExecutor<T> : Core.IShardExecutor<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly DistributedTrainingOptions options;
    private readonly RunPosition position;
    private readonly Func<Core.Network<T>, NeuralNetwork<T>> publish;
    private readonly WorkerSetup setup;
    private readonly IReadOnlyList<byte[]> chunks;
    private readonly List<WorkerEvent> events = new();
    private readonly WorkerPool pool;
    private long version;
    private int published;

    private OrleansShardExecutor(IClusterClient client, DistributedTrainingOptions options, RunPosition position, Func<Core.Network<T>, NeuralNetwork<T>> publish, WorkerSetup setup, IReadOnlyList<byte[]> chunks, SiloView silos, int workers)
    {
        this.options = options;
        this.position = position;
        this.publish = publish;
        this.setup = setup;
        this.chunks = chunks;
        pool = new WorkerPool(client, silos, workers, options.CallTimeout, Enlist, Record);
    }

    /// <summary>
    /// Places the run's workers on the cluster's live silos (worker i on the i-th, modulo their
    /// number, in address order) and sends each the architecture and the training set, in chunks.
    /// </summary>
    /// <param name="client">The cluster.</param>
    /// <param name="options">Workers, timeouts, chunks, events.</param>
    /// <param name="architecture">The network being trained (its layers and activations travel; its parameters are replaced every step).</param>
    /// <param name="loss">The loss being minimised.</param>
    /// <param name="x">The training inputs, as the fold has them (scaled).</param>
    /// <param name="y">The training targets.</param>
    /// <param name="shards">The run's shard count.</param>
    /// <param name="position">Where the run starts.</param>
    /// <param name="publish">Makes the caller's network of a core network (adds the scaler).</param>
    public static OrleansShardExecutor<T> Start(
        IClusterClient client, DistributedTrainingOptions options, NeuralNetwork<T> architecture, Loss loss,
        Core.Matrix<T> x, Core.Matrix<T> y, int shards, RunPosition position, Func<Core.Network<T>, NeuralNetwork<T>> publish)
    {
        RawBytes.CheckLittleEndian();
        var silos = Wait(SiloView.StartAsync(client, options.CallTimeout), "the cluster's silos", position, () => architecture);
        var (setup, chunks) = Upload(architecture, loss, x, y, options.ChunkBytes);
        var executor = new OrleansShardExecutor<T>(client, options, position, publish, setup, chunks, silos, options.Workers ?? shards);
        executor.Run(executor.pool.StartAsync(), () => architecture);
        return executor;
    }

    /// <summary>How many silos are live now.</summary>
    /// <param name="client">The cluster.</param>
    /// <param name="options">The timeout for asking.</param>
    /// <param name="network">The network the run starts from (carried by the exception if the cluster does not answer).</param>
    /// <param name="position">Where the run starts.</param>
    internal static int LiveSiloCount(IClusterClient client, DistributedTrainingOptions options, NeuralNetwork<T> network, RunPosition position)
    {
        using var silos = Wait(SiloView.StartAsync(client, options.CallTimeout), "the cluster's silos", position, () => network);
        return silos.Count;
    }

    /// <summary>The setup message and the upload's chunks: the model file (architecture), the inputs' bytes, the targets' bytes.</summary>
    private static (WorkerSetup Setup, IReadOnlyList<byte[]> Chunks) Upload(NeuralNetwork<T> architecture, Loss loss, Core.Matrix<T> x, Core.Matrix<T> y, int chunkBytes)
    {
        using var model = new MemoryStream();
        new NeuralNetwork<T>(architecture.CoreNetwork).Save(model);
        var parts = new[] { model.ToArray(), RawBytes.Of(x.values).ToArray(), RawBytes.Of(y.values).ToArray() };
        var total = parts.Sum(p => (long)p.Length);
        var chunks = new List<byte[]>();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (_, offset, length) in RawBytes.Chunks(total, chunkBytes))
        {
            var chunk = new byte[length];
            RawBytes.Read(parts, offset, chunk);
            sha.AppendData(chunk);
            chunks.Add(chunk);
        }

        var setup = new WorkerSetup(RawBytes.SizeOf<T>(), (int)loss, parts[0].Length, x.Rows, y.Rows, x.Cols, sha.GetHashAndReset(), chunkBytes);
        return (setup, chunks);
    }

    /// <summary>Sends a new incarnation of a worker the setup and the upload (a few chunks in flight at once) and waits for its check; returns its silo.</summary>
    private async Task<string> Enlist(WorkerTicket worker, IShardWorkers service)
    {
        const int inFlight = 4;
        var silo = await Call(() => service.BeginAsync(worker, setup), $"worker {worker.Worker} starting").ConfigureAwait(false);
        for (var first = 0; first < chunks.Count; first += inFlight)
        {
            var sent = await Task.WhenAll(Enumerable.Range(first, Math.Min(inFlight, chunks.Count - first))
                .Select(i => Call(() => service.UploadAsync(worker, (long)i * setup.ChunkBytes, chunks[i]), $"worker {worker.Worker} receiving the training set"))).ConfigureAwait(false);
            if (!sent.All(ok => ok))
            {
                throw new WorkerLostException($"worker {worker.Worker} lost the training set while receiving it (its silo restarted)");
            }
        }

        if (!await Call(() => service.SealAsync(worker), $"worker {worker.Worker} checking the training set").ConfigureAwait(false))
        {
            throw new WorkerLostException($"worker {worker.Worker} lost or garbled the training set (SHA-256 mismatch or its silo restarted)");
        }

        return silo;
    }

    /// <inheritdoc/>
    public void Compute(Core.Network<T> network, Core.BatchKey key, ReadOnlyMemory<int> examples, double[] totals, Core.Gradients<T>[] shares, double[][] statistics)
    {
        version++;
        var parameters = Core.Parameters.arrays(network).ToList();
        var weights = new Weights(parameters, options.ChunkBytes);
        var request = new Batch(examples.ToArray(), key, totals, shares, statistics);
        Run(ComputeAll(weights, request), () => publish(Core.Parameters.copy(network)));
    }

    /// <summary>The parameters of this step as bytes, whole (when they fit in one chunk) or in chunks.</summary>
    private sealed class Weights(List<T[]> arrays, int chunkBytes)
    {
        private readonly long length = RawBytes.Length(arrays);
        private byte[]? whole;
        private byte[][]? chunks;

        public bool FitsInOneChunk => length <= chunkBytes;

        public byte[] Whole => whole ??= RawBytes.Chunk(arrays, 0, (int)length);

        public byte[][] Chunks => chunks ??= RawBytes.Chunks(length, chunkBytes).Select(c => RawBytes.Chunk(arrays, c.Offset, c.Length)).ToArray();

        public int ChunkBytes => chunkBytes;
    }

    /// <summary>Copies a share's layer statistics (batch normalisation's batch means and variances) to where the fold reads them, after checking their count.</summary>
    private static void TakeStatistics(WorkerHandle worker, ShareReply share, double[] statistics)
    {
        if (share.Statistics is null || share.Statistics.Length != statistics.Length)
        {
            throw new InvalidDataException($"Worker {worker.Index} sent {share.Statistics?.Length ?? 0} statistics for shard {share.Shard}; the network's layers report {statistics.Length}.");
        }

        share.Statistics.CopyTo(statistics, 0);
    }

    /// <summary>A batch's examples, the key of its random draws, and where its shards' results go.</summary>
    private sealed record Batch(int[] Examples, Core.BatchKey Key, double[] Totals, Core.Gradients<T>[] Shares, double[][] Statistics);

    /// <summary>
    /// Every shard, by the ready workers: shard k to ready worker k modulo their number; the shards
    /// of a worker that fails go round again to the workers still ready, and a share with a
    /// non-finite number to another worker (<see cref="ShareDoubts{T}"/>), until all are taken.
    /// </summary>
    private async Task ComputeAll(Weights weights, Batch batch)
    {
        var pending = Enumerable.Range(0, batch.Totals.Length).ToList();
        var doubts = new ShareDoubts<T>();
        while (pending.Count > 0)
        {
            var ready = await pool.ReadyAsync().ConfigureAwait(false);
            var rounds = new Dictionary<WorkerHandle, List<int>>();
            foreach (var k in pending)
            {
                var eligible = ready.Where(w => !doubts.Excludes(k, w)).ToList();
                if (eligible.Count == 0)
                {
                    doubts.TakeLast(k, batch.Totals, batch.Shares[k]);
                    continue;
                }

                var worker = eligible[k % eligible.Count];
                if (!rounds.TryGetValue(worker, out var shards))
                {
                    rounds[worker] = shards = new List<int>();
                }

                shards.Add(k);
            }

            var outcomes = await Task.WhenAll(rounds.Select(r => ComputeOn(r.Key, r.Value, weights, batch))).ConfigureAwait(false);
            pending = new List<int>();
            foreach (var ((worker, shards), ticket) in rounds.Zip(outcomes))
            {
                if (ticket is null)
                {
                    pending.AddRange(shards);
                    continue;
                }

                foreach (var k in shards)
                {
                    var (taken, wrong) = doubts.Judge(k, worker, ticket, batch.Totals[k], batch.Shares[k]);
                    if (!taken)
                    {
                        pending.Add(k);
                    }

                    if (wrong is { } w)
                    {
                        pool.Lose(w.Worker, w.Ticket, $"worker {w.Worker.Index} {w.Reason}", unreachable: true);
                    }
                }
            }

            pending.Sort();
        }
    }

    /// <summary>One worker's shards: the parameters (unless it holds them), the computation, the shares. The ticket it computed with, or null when it failed.</summary>
    private async Task<WorkerTicket?> ComputeOn(WorkerHandle worker, List<int> shards, Weights weights, Batch batch)
    {
        var n = batch.Examples.Length;
        var (ticket, service, held) = pool.Current(worker);
        try
        {
            byte[]? inline = null;
            if (held != version)
            {
                if (weights.FitsInOneChunk)
                {
                    inline = weights.Whole;
                }
                else
                {
                    var sent = await Task.WhenAll(weights.Chunks.Select((c, i) => Call(() => service.PutWeightsAsync(ticket, version, (long)i * weights.ChunkBytes, c), $"worker {worker.Index} receiving the parameters"))).ConfigureAwait(false);
                    if (!sent.All(ok => ok))
                    {
                        throw new WorkerLostException($"worker {worker.Index} no longer holds the training set (its silo restarted)");
                    }
                }
            }

            var tasks = shards.Select(k =>
            {
                var (first, size) = Core.Shards.range(n, batch.Totals.Length, k);
                return new ShardTask(k, batch.Examples.AsSpan(first, size).ToArray(), batch.Key.First + first);
            }).ToArray();
            var request = new ComputeRequest(version, n, tasks, inline, unchecked((long)batch.Key.Seed), batch.Key.Step);
            var reply = await Call(() => service.ComputeAsync(ticket, request), $"worker {worker.Index} computing shards {string.Join(", ", shards)}").ConfigureAwait(false);
            if (!reply.Ready)
            {
                throw new WorkerLostException($"worker {worker.Index} no longer holds the training set (its silo restarted)");
            }

            pool.Holds(worker, ticket, version);
            if (!reply.Shares.Select(s => s.Shard).Order().SequenceEqual(shards))
            {
                throw new InvalidDataException($"Worker {worker.Index} answered for shards {string.Join(", ", reply.Shares.Select(s => s.Shard))}, asked for {string.Join(", ", shards)}.");
            }

            foreach (var share in reply.Shares)
            {
                await Receive(worker, ticket, service, share, batch.Shares[share.Shard], weights.ChunkBytes).ConfigureAwait(false);
                TakeStatistics(worker, share, batch.Statistics[share.Shard]);
                batch.Totals[share.Shard] = share.Total;
            }

            return ticket;
        }
        catch (WorkerLostException e)
        {
            pool.Lose(worker, ticket, e.Message, e.Unreachable);
            return null;
        }
    }

    /// <summary>Writes a share into the fold's buffer: from the reply, or read chunk by chunk.</summary>
    private async Task Receive(WorkerHandle worker, WorkerTicket ticket, IShardWorkers service, ShareReply share, Core.Gradients<T> target, int chunkBytes)
    {
        var arrays = Core.Gradients.arrays(target).ToList();
        var length = RawBytes.Length(arrays);
        if (share.Length != length || (share.Bytes is { } sent && sent.Length != length))
        {
            throw new InvalidDataException($"Worker {worker.Index} sent a share of {share.Bytes?.Length ?? share.Length} bytes for a network of {length}.");
        }

        if (share.Bytes is { } bytes)
        {
            RawBytes.Write(arrays, 0, bytes);
            return;
        }

        await Task.WhenAll(RawBytes.Chunks(share.Length, chunkBytes).Select(async c =>
        {
            var offset = c.Offset;
            var chunk = await Call(() => service.ReadShareAsync(ticket, version, share.Shard, offset), $"worker {worker.Index} sending shard {share.Shard}").ConfigureAwait(false)
                ?? throw new WorkerLostException($"worker {worker.Index} no longer holds shard {share.Shard}'s share (its silo restarted)");
            if (chunk.Length != c.Length)
            {
                throw new InvalidDataException($"Worker {worker.Index} sent {chunk.Length} bytes of shard {share.Shard}'s share at {offset}, not {c.Length}.");
            }

            RawBytes.Write(arrays, offset, chunk);
        })).ConfigureAwait(false);
    }

    private Task<TResult> Call<TResult>(Func<Task<TResult>> call, string what) => WorkerCalls.Bounded(call, options.CallTimeout, what);

    private void Record(WorkerEventKind kind, WorkerHandle worker, string? reason)
    {
        lock (events)
        {
            events.Add(new WorkerEvent(kind, worker.Index, worker.Silo, position.Step(version == 0 ? 0 : version - 1), reason));
        }
    }

    /// <summary>
    /// Waits for the work on this (the training) thread, then tells the events that happened in
    /// order; when no worker is left, throws <see cref="NoLiveWorkerException{T}"/> with the
    /// network <paramref name="lastGood"/> gives.
    /// </summary>
    private void Run(Task work, Func<NeuralNetwork<T>> lastGood)
    {
        Exception? failure = null;
        try
        {
            work.GetAwaiter().GetResult();
        }
        catch (WorkerLostException e)
        {
            failure = e;
        }
        finally
        {
            Publish();
        }

        if (failure is not null)
        {
            var done = version == 0 ? 0 : version - 1;
            string reasons;
            lock (events)
            {
                reasons = string.Join("; ", events.Where(e => e.Kind == WorkerEventKind.Lost).Select(e => $"worker {e.Worker} on {e.Silo}: {e.Reason}"));
            }

            throw new NoLiveWorkerException<T>(
                $"No live worker is left to compute the shards (epoch {position.Epoch(done)}, after step {position.Step(done)}): {failure.Message}{(reasons.Length > 0 ? $"; {reasons}" : "")}. The exception carries the network of the last completed step; resume from a checkpoint once silos are back.",
                lastGood(), position.Epoch(done), position.Step(done), failure);
        }
    }

    private void Publish()
    {
        WorkerEvent[] happened;
        lock (events)
        {
            happened = events.Skip(published).ToArray();
            published = events.Count;
        }

        foreach (var e in happened)
        {
            options.Events?.Report(e);
        }
    }

    private static TResult Wait<TResult>(Task<TResult> task, string what, RunPosition position, Func<NeuralNetwork<T>> network)
    {
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (WorkerLostException e)
        {
            throw new NoLiveWorkerException<T>($"The cluster did not answer ({what}): {e.Message}.", network(), position.Epoch(0), position.Step(0), e);
        }
    }

    /// <summary>Lets the workers go (best effort, within the timeout): the run is over.</summary>
    public void Dispose() => pool.Dispose();
}
