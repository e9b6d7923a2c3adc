using FunctionalBackprop.Orleans.Workers;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>The coordinator's view of one worker: its grain, its silo, whether it still answers, and which step's parameters it holds.</summary>
internal sealed class WorkerHandle(int index, IShardWorker grain, string silo)
{
    public int Index { get; } = index;

    public IShardWorker Grain { get; } = grain;

    /// <summary>The silo it was placed on (its own answer), or the one it was meant for until it answers.</summary>
    public string Silo { get; set; } = silo;

    public bool Alive { get; set; } = true;

    /// <summary>The step whose parameters it holds in full (0 for none).</summary>
    public long WeightsVersion { get; set; }
}
