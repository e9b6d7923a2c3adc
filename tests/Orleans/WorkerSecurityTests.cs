using System;
using System.Linq;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Coordinator;
using FunctionalBackprop.Orleans.Wire;
using FunctionalBackprop.Orleans.Workers;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Services;
using Xunit;

namespace FunctionalBackprop.Orleans.Tests;

/// <summary>
/// What a silo's workers accept: calls with the run's token only, uploads within the silo's limit
/// and in the chunks the coordinator cuts; and what the coordinator accepts: finite shares, or the
/// same non-finite bits from a second worker.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class WorkerSecurityTests(ClusterFixture fixture)
{
    // A setup of 2 inputs, 1 target and 3 examples in float64 after a model file of 100 bytes: 172 bytes.
    private static readonly WorkerSetup Small = new(8, (int)Loss.Quadratic, 100, 2, 1, 3, new byte[32], WorkerSetup.MinChunkBytes);

    [Fact]
    public async Task ACallWithAWrongTokenIsRefused()
    {
        var workers = await Workers();
        var run = Guid.NewGuid();
        var coordinator = new WorkerTicket(run, 0, 0, Token());
        var outsider = coordinator with { Token = Token() };
        await workers.BeginAsync(coordinator, Small);

        // Every call after Begin, and Begin again under the same name, needs the token Begin gave.
        var refusals = new Func<Task>[]
        {
            () => workers.UploadAsync(outsider, 0, new byte[172]),
            () => workers.SealAsync(outsider),
            () => workers.PutWeightsAsync(outsider, 1, 0, new byte[8]),
            () => workers.ComputeAsync(outsider, new ComputeRequest(1, 1, Array.Empty<ShardTask>(), null, 0, 0)),
            () => workers.ReadShareAsync(outsider, 1, 0, 0),
            () => workers.StopAsync(outsider),
            () => workers.BeginAsync(outsider, Small),
        };
        foreach (var call in refusals)
        {
            var e = await Assert.ThrowsAsync<UnauthorizedAccessException>(call);
            Assert.Contains("wrong token", e.Message);
        }

        // The coordinator's worker is untouched: its upload goes on.
        Assert.True(await workers.UploadAsync(coordinator, 0, new byte[172]));
        await workers.StopAsync(coordinator);
        Assert.False(await workers.UploadAsync(coordinator, 0, new byte[172]));
    }

    [Fact]
    public async Task ABeginBeyondTheSilosLimitIsRefusedBeforeAnythingIsAllocated()
    {
        var workers = await Workers();
        // 60,000 digits of 784 pixels, a thousand times: 376 GB, far beyond the default 1 GiB.
        var huge = Small with { InputRows = 784, TargetRows = 10, Examples = 60_000_000 };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => workers.BeginAsync(new WorkerTicket(Guid.NewGuid(), 0, 0, Token()), huge));
        Assert.Contains("more than this silo's limit of 1073741824", e.Message);

        foreach (var bad in new[] { Small with { RealSize = 2 }, Small with { Examples = -3 }, Small with { ChunkBytes = 1 }, Small with { Sha256 = new byte[3] }, Small with { Loss = 99 } })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => workers.BeginAsync(new WorkerTicket(Guid.NewGuid(), 0, 0, Token()), bad));
        }
    }

    [Fact]
    public async Task AChunkOutsideTheUploadIsRefused()
    {
        var workers = await Workers();
        var ticket = new WorkerTicket(Guid.NewGuid(), 0, 0, Token());
        await workers.BeginAsync(ticket, Small);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => workers.UploadAsync(ticket, 4096, new byte[10]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => workers.UploadAsync(ticket, 0, new byte[171]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => workers.UploadAsync(ticket, -1, new byte[172]));
        await workers.StopAsync(ticket);
    }

    [Fact]
    public async Task AShareWithANonFiniteNumberIsRecomputedOnAnotherWorker()
    {
        var local = Runs.Network().Fit(Runs.Data, Runs.Options(3));
        var events = new WorkerEvents();
        var trainer = new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events, CallTimeout = TimeSpan.FromSeconds(10) });
        // After batch 3 of epoch 1, worker 1's copy of the training inputs turns to NaN, as memory
        // that went bad would: its shares are refused and computed again by the others.
        var progress = new AtBatch(1, 3, () => Poison(events.Started.Single(e => e.Worker == 1).Silo));
        var distributed = await trainer.FitAsync(Runs.Network(), Runs.Data, Runs.Options(3), progress);

        Assert.Equal(1, progress.Fired);
        Assert.Equal(Runs.Bytes(local.Checkpoint), Runs.Bytes(distributed.Checkpoint));
        var lost = Assert.Single(events.Lost);
        Assert.Equal(1, lost.Worker);
        Assert.Equal(3, lost.Step);
        Assert.Contains("non-finite", lost.Reason);
        // Started again elsewhere, with a clean copy.
        Assert.Equal(2, events.Started.Count(e => e.Worker == 1));
    }

    [Fact]
    public void ADivergedRunEndsAsFitEndsWhenEveryWorkerAgreesOnTheNonFiniteShare()
    {
        // η = 10²⁰⁰ makes the first step's weights so large that the second step's softmax sees
        // ∞ − ∞: every worker computes the same NaN cost, which is taken, and the fold reports the
        // divergence as Fit does.
        var options = Runs.Options(3) with { Loss = Loss.CrossEntropy, Optimizer = Optimizer.Sgd(Schedule.Constant(1e200)) };
        NeuralNetwork<double> Network() => NeuralNetwork.Create(784).Dense(30, Activation.ReLU).Dense(10, Activation.Softmax).Build<double>(seed: 3);
        var local = Assert.Throws<TrainingDivergedException<double>>(() => Network().Fit(Runs.Data, options));
        var events = new WorkerEvents();
        var distributed = Assert.Throws<TrainingDivergedException<double>>(() => new DistributedTrainer(fixture.Client, new DistributedTrainingOptions { Events = events }).Fit(Network(), Runs.Data, options));

        Assert.Equal(local.Message, distributed.Message);
        Assert.Equal(Runs.Bytes(local.LastFiniteNetwork), Runs.Bytes(distributed.LastFiniteNetwork));
        Assert.Empty(events.Lost);
    }

    /// <summary>Turns the training inputs held by the workers of this run on <paramref name="silo"/> to NaN.</summary>
    private void Poison(string silo)
    {
        var handle = fixture.Cluster.Silos.Single(s => s.SiloAddress.ToParsableString() == silo);
        var service = handle.ServiceProvider.GetServices<IGrainService>().OfType<ShardWorkers>().Single();
        foreach (var worker in service.Held)
        {
            Array.Fill(((WorkerState<double>)worker.State!).Inputs, double.NaN);
        }
    }

    /// <summary>The workers service of the first live silo, called through its gateway as the coordinator calls it.</summary>
    private async Task<IShardWorkers> Workers()
    {
        using var view = await SiloView.StartAsync(fixture.Client, TimeSpan.FromSeconds(30));
        var silo = view.Usable.First();
        return fixture.Client.GetGrain<IShardWorkers>(ShardWorkers.At(silo.Route));
    }

    private static byte[] Token() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
}
