using FunctionalBackprop.Orleans.Wire;
using FunctionalBackprop.Orleans.Workers;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>Where a worker stands: without a silo, starting (its upload under way), or ready to compute.</summary>
internal enum WorkerStatus
{
    Homeless,
    Starting,
    Ready,
}

/// <summary>
/// The coordinator's view of one worker: its current incarnation (ticket, silo, service), where
/// it stands, and which step's parameters it holds. Changed only under the pool's lock.
/// </summary>
internal sealed class WorkerHandle(int index)
{
    public int Index { get; } = index;

    public WorkerStatus Status { get; set; } = WorkerStatus.Homeless;

    /// <summary>Names the current incarnation on its silo (null before the first start).</summary>
    public WorkerTicket? Ticket { get; set; }

    /// <summary>The silo it was started on (null before the first start).</summary>
    public SiloEntry? Home { get; set; }

    /// <summary>The workers service of its silo.</summary>
    public IShardWorkers? Service { get; set; }

    /// <summary>The silo it runs on, as it said at Begin (or the one meant for it until then).</summary>
    public string Silo { get; set; } = "";

    /// <summary>The step whose parameters it holds in full (0 for none).</summary>
    public long WeightsVersion { get; set; }

    /// <summary>Not started again before this time (<see cref="System.Environment.TickCount64"/>), after a start failed.</summary>
    public long RetryAt { get; set; }
}
