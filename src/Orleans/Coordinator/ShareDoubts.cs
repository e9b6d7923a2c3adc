using System;
using System.Collections.Generic;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Orleans.Wire;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>
/// The shares of one batch that came back with a non-finite number (in the share or its cost).
/// Such a share is not taken at once: another worker computes the shard again. A finite answer
/// is taken and proves the first worker wrong; the same bits from a second worker are taken as
/// they are (the training itself diverged, and the fold reports it as Fit does); when no other
/// worker is left to ask, the last answer is taken.
/// </summary>
internal sealed class ShareDoubts<T>
    where T : IFloatingPointIeee754<T>
{
    private readonly Dictionary<int, (WorkerHandle Worker, WorkerTicket Ticket, double Total, byte[] Bytes)> doubted = new();
    private readonly Dictionary<int, HashSet<int>> excluded = new();

    /// <summary>Whether <paramref name="worker"/> already gave a doubted answer for <paramref name="shard"/>.</summary>
    public bool Excludes(int shard, WorkerHandle worker) => excluded.TryGetValue(shard, out var e) && e.Contains(worker.Index);

    /// <summary>
    /// Judges the share of <paramref name="shard"/> that <paramref name="worker"/> just wrote:
    /// whether it is taken, and the worker (with its ticket then) that a finite answer proved wrong, if any.
    /// </summary>
    public (bool Taken, (WorkerHandle Worker, WorkerTicket Ticket, string Reason)? Wrong) Judge(int shard, WorkerHandle worker, WorkerTicket ticket, double total, Core.Gradients<T> share)
    {
        var arrays = Core.Gradients.arrays(share).ToList();
        var doubt = doubted.TryGetValue(shard, out var earlier);
        if (double.IsFinite(total) && arrays.All(a => a.All(T.IsFinite)))
        {
            doubted.Remove(shard);
            return (true, doubt ? (earlier.Worker, earlier.Ticket, $"sent shard {shard}'s share with a non-finite number, which worker {worker.Index} computed finite") : null);
        }

        var bytes = RawBytes.Chunk<T>(arrays, 0, (int)RawBytes.Length(arrays));
        if (doubt && earlier.Worker != worker && BitConverter.DoubleToInt64Bits(earlier.Total) == BitConverter.DoubleToInt64Bits(total) && earlier.Bytes.AsSpan().SequenceEqual(bytes))
        {
            doubted.Remove(shard);
            return (true, null);
        }

        doubted[shard] = (worker, ticket, total, bytes);
        if (!excluded.TryGetValue(shard, out var workers))
        {
            excluded[shard] = workers = new HashSet<int>();
        }

        workers.Add(worker.Index);
        return (false, null);
    }

    /// <summary>Takes the last doubted answer for <paramref name="shard"/> (no other worker is left to ask): writes it where the fold reads it.</summary>
    public void TakeLast(int shard, double[] totals, Core.Gradients<T> share)
    {
        var (_, _, total, bytes) = doubted[shard];
        RawBytes.Write(Core.Gradients.arrays(share).ToList(), 0, bytes);
        totals[shard] = total;
        doubted.Remove(shard);
    }
}
