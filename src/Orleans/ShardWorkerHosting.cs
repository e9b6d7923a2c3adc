using System;
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
    /// registers the silo's worker service, which coordinators reach through this silo's own
    /// gateway. Call it on every silo that should compute.
    /// </summary>
    /// <param name="builder">The silo's builder.</param>
    /// <param name="configure">Sets the limits of <see cref="ShardWorkerOptions"/>; the defaults when null.</param>
    /// <returns>The same builder.</returns>
    public static ISiloBuilder AddShardWorkers(this ISiloBuilder builder, Action<ShardWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(ShardWorkers).Assembly));
        builder.Services.AddOptions<ShardWorkerOptions>().Configure(options => configure?.Invoke(options));
        builder.Services.AddGrainService<ShardWorkers>();
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
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSerializer(serializer => serializer.AddAssembly(typeof(ShardWorkers).Assembly));
        return builder;
    }
}
