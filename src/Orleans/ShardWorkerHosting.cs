using FunctionalBackprop.Orleans.Workers;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Hosting;
using Orleans.Serialization;

namespace FunctionalBackprop.Orleans;

/// <summary>Setting up silos and clients for distributed training.</summary>
public static class ShardWorkerHosting
{
    /// <summary>
    /// Lets this silo host the shard workers of distributed training runs (<see cref="DistributedTrainer"/>):
    /// registers the worker grain and the placement that spreads a run's workers over the
    /// cluster's silos. Call it on every silo that should compute.
    /// </summary>
    /// <param name="builder">The silo's builder.</param>
    /// <returns>The same builder.</returns>
    public static ISiloBuilder AddShardWorkers(this ISiloBuilder builder)
    {
        builder.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(ShardWorker).Assembly));
        builder.AddPlacementDirector<SpreadPlacement, SpreadPlacementDirector>();
        return builder;
    }

    /// <summary>
    /// Lets this client coordinate distributed training runs (<see cref="DistributedTrainer"/>):
    /// registers the messages its coordinator exchanges with the workers.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <returns>The same builder.</returns>
    public static IClientBuilder AddShardWorkerClient(this IClientBuilder builder)
    {
        builder.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(ShardWorker).Assembly));
        return builder;
    }
}
