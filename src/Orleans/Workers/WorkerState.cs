using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using FunctionalBackprop.Orleans.Wire;
using Microsoft.FSharp.Core;
using Core = FunctionalBackprop.Core;

namespace FunctionalBackprop.Orleans.Workers;

/// <summary>A worker's data and parameters, whatever its real type.</summary>
internal interface IWorkerState
{
    /// <summary>Bytes in a parameter vector (and in a share).</summary>
    long ParameterBytes { get; }

    /// <summary>Writes chunk <paramref name="index"/> (at <paramref name="offset"/>) of the parameters of step <paramref name="version"/>; a new version starts a new vector.</summary>
    void PutWeights(long version, int index, long offset, ReadOnlySpan<byte> chunk);

    /// <summary>Whether the whole parameter vector of step <paramref name="version"/> has arrived.</summary>
    bool HasWeights(long version);

    /// <summary>The shards' shares of a batch of <paramref name="batchExamples"/> examples at the current parameters, in training mode with the run's seed at the step given.</summary>
    IReadOnlyList<(int Shard, double Total, byte[] Share, double[] Statistics)> Compute(int batchExamples, IReadOnlyList<ShardTask> shards, long seed, long step);
}

/// <summary>
/// The training set and a private network whose parameter arrays each step overwrites (the
/// worker's own buffers: nobody else ever sees this network), and the one computation:
/// Core.Shards.share, exactly as the training fold computes its local shards (Core.Shards.shareInto,
/// in buffers kept per shard size).
/// </summary>
internal sealed class WorkerState<T> : IWorkerState
    where T : IFloatingPointIeee754<T>
{
    private readonly Core.Loss loss;
    private readonly Core.Network<T> network;
    private readonly Core.Matrix<T> x;
    private readonly Core.Matrix<T> y;
    private readonly List<T[]> parameters;
    private readonly Dictionary<int, Core.ShardBuffers<T>> buffers = new();
    private readonly bool[] received;
    private long version = -1;

    /// <summary>Reads the upload: the model file (the architecture), then the inputs and the targets as raw bytes.</summary>
    public WorkerState(WorkerSetup setup, byte[] upload)
    {
        loss = ((Loss)setup.Loss).ToCore();
        using (var model = new MemoryStream(upload, 0, setup.ModelBytes, writable: false))
        {
            network = NeuralNetwork<T>.Load(model).CoreNetwork;
        }

        if (network.InputWidth != setup.InputRows || network.OutputWidth != setup.TargetRows)
        {
            throw new InvalidDataException($"The uploaded network is {network}, but the data have {setup.InputRows} inputs and {setup.TargetRows} targets.");
        }

        var inputBytes = (long)setup.InputRows * setup.Examples * setup.RealSize;
        var targetBytes = (long)setup.TargetRows * setup.Examples * setup.RealSize;
        x = Core.Matrix.wrap(setup.InputRows, setup.Examples, RawBytes.ToArray<T>(upload.AsSpan(setup.ModelBytes, (int)inputBytes)));
        y = Core.Matrix.wrap(setup.TargetRows, setup.Examples, RawBytes.ToArray<T>(upload.AsSpan(setup.ModelBytes + (int)inputBytes, (int)targetBytes)));
        parameters = Core.Parameters.arrays(network).ToList();
        ParameterBytes = RawBytes.Length(parameters);
        received = new bool[RawBytes.Chunks(ParameterBytes, setup.ChunkBytes).Count()];
    }

    public long ParameterBytes { get; }

    /// <summary>The training inputs as this worker holds them, column by column (for tests that look inside).</summary>
    internal T[] Inputs => x.values;

    public void PutWeights(long version, int index, long offset, ReadOnlySpan<byte> chunk)
    {
        if (version != this.version)
        {
            this.version = version;
            Array.Clear(received);
        }

        RawBytes.Write(parameters, offset, chunk);
        received[index] = true;
    }

    public bool HasWeights(long version) => version == this.version && Array.TrueForAll(received, r => r);

    public IReadOnlyList<(int Shard, double Total, byte[] Share, double[] Statistics)> Compute(int batchExamples, IReadOnlyList<ShardTask> shards, long seed, long step)
    {
        var computed = new List<(int, double, byte[], double[])>(shards.Count);
        foreach (var s in shards)
        {
            if (s.Examples.Length == 0 || s.Examples.Length > batchExamples)
            {
                throw new ArgumentOutOfRangeException(nameof(shards), $"Shard {s.Shard} asks for {s.Examples.Length} examples of a batch of {batchExamples}.");
            }

            foreach (var j in s.Examples)
            {
                if ((uint)j >= (uint)x.Cols)
                {
                    throw new ArgumentOutOfRangeException(nameof(shards), j, $"Shard {s.Shard} asks for example {j} of a training set of {x.Cols}.");
                }
            }

            // Core.Shards.share, in buffers kept per shard size (the fold's own shareInto): the
            // same bits, without allocating a pass and two gathered copies per shard and step.
            if (!buffers.TryGetValue(s.Examples.Length, out var b))
            {
                b = Core.Shards.buffers(network, s.Examples.Length);
                buffers.Add(s.Examples.Length, b);
            }

            var draws = FSharpValueOption<Core.BatchKey>.NewValueSome(new Core.BatchKey(unchecked((ulong)seed), step, s.First));
            var total = Core.Shards.onOneThread(s.Examples.Length < batchExamples, FuncConvert.FromFunc(() => Core.Shards.shareInto(draws, loss, network, b, s.Examples, x, y, batchExamples)));
            var arrays = Core.Gradients.arrays(b.Pass.Gradients);
            var bytes = new byte[RawBytes.Length(arrays)];
            RawBytes.Read(arrays, 0, bytes);
            computed.Add((s.Shard, total, bytes, (double[])b.Pass.Statistics.Clone()));
        }

        return computed;
    }
}
