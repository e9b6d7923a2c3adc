using System;
using System.Collections.Generic;
using System.Linq;
using FunctionalBackprop.Orleans.Wire;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>Numbers as bytes, in chunks, through Orleans' serializer: every bit arrives.</summary>
[Collection(ClusterCollection.Name)]
public sealed class WireTests(ClusterFixture fixture)
{
    // NaN with payloads and both signs, −0, the smallest and largest subnormals, the smallest
    // normal, ±∞, the extremes and ordinary values.
    private static readonly double[] SpecialDoubles =
    {
        double.NaN, BitConverter.Int64BitsToDouble(0x7FF0_0000_0000_0001), BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_DEAD_BEEF)),
        -0.0, 0.0, double.Epsilon, -double.Epsilon, BitConverter.Int64BitsToDouble(0x000F_FFFF_FFFF_FFFF), 2.2250738585072014e-308,
        double.PositiveInfinity, double.NegativeInfinity, double.MaxValue, double.MinValue, 1.0 / 3, -Math.PI,
    };

    private static readonly float[] SpecialFloats =
    {
        float.NaN, BitConverter.Int32BitsToSingle(0x7F80_0001), BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_BEEF)),
        -0.0f, 0.0f, float.Epsilon, -float.Epsilon, BitConverter.Int32BitsToSingle(0x007F_FFFF), 1.17549435e-38f,
        float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, float.MinValue, 1.0f / 3, -MathF.PI,
    };

    [Fact]
    public void DoublesSurviveChunksAndTheSerializerBitForBit()
    {
        // Arrays of several lengths, like a network's weight and bias arrays, cut into chunks whose
        // boundaries fall inside numbers and across arrays.
        var arrays = new[] { Repeat(SpecialDoubles, 7), Repeat(SpecialDoubles, 1), SpecialDoubles[..3] };
        var received = RoundTrip(arrays, chunk: 13);
        Assert.Equal(arrays.Select(a => a.Select(BitConverter.DoubleToInt64Bits)), received.Select(a => a.Select(BitConverter.DoubleToInt64Bits)));
    }

    [Fact]
    public void FloatsSurviveChunksAndTheSerializerBitForBit()
    {
        var arrays = new[] { Repeat(SpecialFloats, 5), SpecialFloats[..1], Repeat(SpecialFloats, 3) };
        var received = RoundTrip(arrays, chunk: 7);
        Assert.Equal(arrays.Select(a => a.Select(BitConverter.SingleToInt32Bits)), received.Select(a => a.Select(BitConverter.SingleToInt32Bits)));
    }

    [Fact]
    public void MessagesSurviveTheSerializer()
    {
        var serializer = fixture.Client.ServiceProvider.GetRequiredService<Serializer>();
        var weights = RawBytes.Of(SpecialDoubles.ToArray()).ToArray();
        var request = new ComputeRequest(42, 10, new[] { new ShardTask(2, new[] { 7, 3, 9 }, 30) }, weights, -5, 1234567890123);
        var copy = serializer.Deserialize<ComputeRequest>(serializer.SerializeToArray(request))!;

        Assert.Equal(request.Version, copy.Version);
        Assert.Equal(request.BatchExamples, copy.BatchExamples);
        Assert.Equal(request.Shards.Single().Shard, copy.Shards.Single().Shard);
        Assert.Equal(request.Shards.Single().Examples, copy.Shards.Single().Examples);
        Assert.Equal(request.Shards.Single().First, copy.Shards.Single().First);
        Assert.Equal((request.Seed, request.Step), (copy.Seed, copy.Step));
        Assert.Equal(weights, copy.Weights);

        var statistics = new[] { 64.0, -0.0, double.Epsilon, 1e300 };
        var reply = new ComputeReply(true, new[] { new ShareReply(1, -0.0, weights.Length, weights, statistics), new ShareReply(2, double.NaN, 1 << 30, null, Array.Empty<double>()) });
        var back = serializer.Deserialize<ComputeReply>(serializer.SerializeToArray(reply))!;
        Assert.True(back.Ready);
        Assert.Equal(reply.Shares.Select(s => (s.Shard, BitConverter.DoubleToInt64Bits(s.Total), s.Length)), back.Shares.Select(s => (s.Shard, BitConverter.DoubleToInt64Bits(s.Total), s.Length)));
        Assert.Equal(weights, back.Shares[0].Bytes);
        Assert.Null(back.Shares[1].Bytes);
        Assert.Equal(statistics.Select(BitConverter.DoubleToInt64Bits), back.Shares[0].Statistics.Select(BitConverter.DoubleToInt64Bits));
        Assert.Empty(back.Shares[1].Statistics);
    }

    [Fact]
    public void ParametersAndSharesInSmallChunksGiveTheSameBits()
    {
        // 784-30-10 in float32 is 95,440 bytes: with 4 KiB chunks the parameters and the shares
        // travel in 24 chunks each, read and written out of order.
        var network = NeuralNetwork.Create(784).Dense(30, Activation.Sigmoid).Dense(10, Activation.Softmax).Build<float>(seed: 5);
        var data = Digits.TrainingFloat32(200);
        var options = new FitOptions<float> { Epochs = 1, BatchSize = 20, Shards = 3, Seed = 2 };
        var local = network.Fit(data, options);
        var distributed = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { ChunkBytes = 4096 }).Fit(network, data, options);

        Assert.Equal(Checkpoint(local.Checkpoint), Checkpoint(distributed.Checkpoint));
    }

    private static byte[] Checkpoint(TrainingCheckpoint<float> checkpoint)
    {
        using var stream = new System.IO.MemoryStream();
        checkpoint.Save(stream);
        return stream.ToArray();
    }

    private static T[] Repeat<T>(T[] values, int times) => Enumerable.Repeat(values, times).SelectMany(v => v).ToArray();

    /// <summary>The arrays' bytes cut into chunks, each through Orleans' serializer, written into new arrays of the same lengths.</summary>
    private T[][] RoundTrip<T>(T[][] arrays, int chunk)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var serializer = fixture.Client.ServiceProvider.GetRequiredService<Serializer>();
        var total = RawBytes.Length(arrays);
        var received = arrays.Select(a => new T[a.Length]).ToArray();
        // Last chunk first: the writes must land by offset, whatever the order they arrive in.
        foreach (var (_, offset, length) in RawBytes.Chunks(total, chunk).Reverse())
        {
            var bytes = RawBytes.Chunk<T>(arrays, offset, length);
            var copy = serializer.Deserialize<byte[]>(serializer.SerializeToArray(bytes));
            RawBytes.Write<T>(received, offset, copy);
        }

        return received;
    }
}
