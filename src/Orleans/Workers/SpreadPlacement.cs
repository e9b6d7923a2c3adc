using System;
using System.Linq;
using System.Threading.Tasks;
using Orleans;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace FunctionalBackprop.Orleans.Workers;

/// <summary>
/// Places each worker on the silo its key names ("run/worker/silo"), so that the coordinator
/// spreads a run's workers over the cluster's machines; when that silo is gone (or the key names
/// none), on the live silo with the worker's number modulo their count, in address order.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("FunctionalBackprop.Orleans.SpreadPlacement")]
internal sealed class SpreadPlacement : PlacementStrategy
{
}

/// <summary>Marks a grain class for <see cref="SpreadPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class SpreadPlacementAttribute : PlacementAttribute
{
    public SpreadPlacementAttribute()
        : base(new SpreadPlacement())
    {
    }
}

/// <summary>The director of <see cref="SpreadPlacement"/>.</summary>
internal sealed class SpreadPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target).OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        if (silos.Length == 0)
        {
            throw new OrleansException("No silo can host FunctionalBackprop's shard workers: call AddShardWorkers on the silos' builders.");
        }

        var (worker, silo) = WorkerKey.Parse(target.GrainIdentity.Key.ToString()!);
        var named = silos.FirstOrDefault(s => s.ToParsableString() == silo);
        return Task.FromResult(named ?? silos[worker % silos.Length]);
    }
}

/// <summary>A worker's grain key: "run/worker/silo".</summary>
internal static class WorkerKey
{
    public static string Format(Guid run, int worker, string silo) => $"{run:N}/{worker}/{silo}";

    /// <summary>The worker's number and the silo it was meant for.</summary>
    public static (int Worker, string Silo) Parse(string key)
    {
        var parts = key.Split('/', 3);
        return parts.Length == 3 && int.TryParse(parts[1], out var worker) && worker >= 0
            ? (worker, parts[2])
            : throw new ArgumentException($"'{key}' is not a shard worker's key (run/worker/silo).", nameof(key));
    }
}
