using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;
using FunctionalBackprop.Orleans.Wire;
using FunctionalBackprop.Orleans.Workers;
using Orleans;

namespace FunctionalBackprop.Orleans.Coordinator;

/// <summary>
/// A run's workers and where they run. A worker without a silo (not yet started, its silo gone,
/// its state lost) is started on the usable silo with the fewest workers, in the background,
/// while the others compute; when every worker is ready and a silo has none while another has
/// several, one moves there (computing where it is until it is ready there). So a silo that
/// restarts, or joins, gets workers again; a worker whose silo restarted gets its state back.
/// Each start is a new incarnation with the run's secret token.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly IClusterClient client;
    private readonly SiloView silos;
    private readonly TimeSpan timeout;
    private readonly Guid run = Guid.NewGuid();
    private readonly byte[] token = RandomNumberGenerator.GetBytes(32);
    private readonly WorkerHandle[] workers;
    private readonly Func<WorkerTicket, IShardWorkers, Task<string>> upload;
    private readonly Action<WorkerEventKind, WorkerHandle, string?> record;
    private readonly List<Task> starting = new();
    private readonly int[] incarnations;
    private Task moving = Task.CompletedTask;
    private Exception? fatal;

    /// <param name="client">The cluster.</param>
    /// <param name="silos">The live silos, kept up to date.</param>
    /// <param name="count">How many workers.</param>
    /// <param name="timeout">The longest wait for any answer.</param>
    /// <param name="upload">Sends a new incarnation its run (Begin, the chunks, Seal) and returns its silo.</param>
    /// <param name="record">Told when a worker starts or is lost.</param>
    public WorkerPool(IClusterClient client, SiloView silos, int count, TimeSpan timeout, Func<WorkerTicket, IShardWorkers, Task<string>> upload, Action<WorkerEventKind, WorkerHandle, string?> record)
    {
        this.client = client;
        this.silos = silos;
        this.timeout = timeout;
        this.upload = upload;
        this.record = record;
        workers = Enumerable.Range(0, count).Select(i => new WorkerHandle(i)).ToArray();
        incarnations = Enumerable.Repeat(-1, count).ToArray();
    }

    /// <summary>Every worker, for their events and the end of the run.</summary>
    public IReadOnlyList<WorkerHandle> All => workers;

    /// <summary>Starts every worker and waits until each is ready or has failed.</summary>
    public async Task StartAsync()
    {
        Reconcile();
        Task[] first;
        lock (workers)
        {
            first = starting.ToArray();
        }

        await Task.WhenAll(first).ConfigureAwait(false);
        ThrowIfFatal();
    }

    /// <summary>
    /// The ready workers (in number order), after starting those that need a silo; when none is
    /// ready, waits for one to start, for at most the call timeout, then
    /// <see cref="WorkerLostException"/>.
    /// </summary>
    public async Task<IReadOnlyList<WorkerHandle>> ReadyAsync()
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            ThrowIfFatal();
            Reconcile();
            Task[] pending;
            lock (workers)
            {
                var ready = workers.Where(w => w.Status == WorkerStatus.Ready).ToArray();
                if (ready.Length > 0)
                {
                    return ready;
                }

                pending = starting.ToArray();
            }

            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                throw new WorkerLostException("no worker is left, and none started again within the timeout", unreachable: true);
            }

            await Task.WhenAny(pending.Append(Task.Delay(TimeSpan.FromMilliseconds(Math.Min(left, 250))))).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Counts the worker lost (when its silo did not answer) or without its state (when it
    /// answered so); either way it is started again. Nothing happens when <paramref name="ticket"/>
    /// is no longer its current incarnation.
    /// </summary>
    public void Lose(WorkerHandle worker, WorkerTicket ticket, string reason, bool unreachable)
    {
        SiloEntry home;
        IShardWorkers service;
        lock (workers)
        {
            if (worker.Ticket != ticket || worker.Status != WorkerStatus.Ready)
            {
                return;
            }

            worker.Status = WorkerStatus.Homeless;
            worker.RetryAt = 0;
            home = worker.Home!;
            service = worker.Service!;
        }

        if (unreachable)
        {
            silos.Suspect(home);
            record(WorkerEventKind.Lost, worker, reason);
        }

        Stop(service, ticket);
    }

    /// <summary>The worker's current incarnation, its silo's service, and the step whose parameters it holds.</summary>
    public (WorkerTicket Ticket, IShardWorkers Service, long Held) Current(WorkerHandle worker)
    {
        lock (workers)
        {
            return (worker.Ticket!, worker.Service!, worker.WeightsVersion);
        }
    }

    /// <summary>Notes that the incarnation <paramref name="ticket"/> of <paramref name="worker"/> holds the parameters of step <paramref name="version"/> (unless another took its place).</summary>
    public void Holds(WorkerHandle worker, WorkerTicket ticket, long version)
    {
        lock (workers)
        {
            if (worker.Ticket == ticket)
            {
                worker.WeightsVersion = version;
            }
        }
    }

    /// <summary>Starts the workers that need a silo; moves one to a silo without workers when all are ready.</summary>
    private void Reconcile()
    {
        var usable = silos.Usable;
        if (usable.Count == 0)
        {
            return;
        }

        lock (workers)
        {
            starting.RemoveAll(t => t.IsCompleted);
            var now = Environment.TickCount64;
            foreach (var worker in workers.Where(w => w.Status == WorkerStatus.Homeless && now >= w.RetryAt))
            {
                Start(worker, Choose(worker, usable));
            }

            if (moving.IsCompleted && workers.All(w => w.Status == WorkerStatus.Ready) && usable.FirstOrDefault(s => Load(s) == 0) is { } empty
                && workers.LastOrDefault(w => Load(w.Home!) >= 2) is { } crowded)
            {
                moving = Move(crowded, empty);
            }
        }
    }

    /// <summary>
    /// Starts another incarnation of <paramref name="worker"/> on <paramref name="home"/> while the
    /// current one goes on computing; once it is ready it takes over (unless the worker was lost
    /// or moved meanwhile), and the old one is let go.
    /// </summary>
    private async Task Move(WorkerHandle worker, SiloEntry home)
    {
        var (old, ticket) = (worker.Ticket!, worker.Ticket! with { Incarnation = ++incarnations[worker.Index] });
        var service = client.GetGrain<IShardWorkers>(ShardWorkers.At(home.Route));
        try
        {
            var silo = await upload(ticket, service).ConfigureAwait(false);
            IShardWorkers retired;
            lock (workers)
            {
                if (worker.Ticket != old || worker.Status != WorkerStatus.Ready)
                {
                    Stop(service, ticket);
                    return;
                }

                retired = worker.Service!;
                (worker.Ticket, worker.Home, worker.Service, worker.Silo, worker.WeightsVersion) = (ticket, home, service, silo, 0);
            }

            Stop(retired, old);
            record(WorkerEventKind.Started, worker, null);
        }
        catch (WorkerLostException e)
        {
            if (e.Unreachable)
            {
                silos.Suspect(home);
            }

            Stop(service, ticket);
        }
        catch (Exception e)
        {
            lock (workers)
            {
                fatal ??= e;
            }
        }
    }

    /// <summary>The usable silo with the fewest workers; among equals the first from the worker's own number on (so worker i starts on silo i modulo their number).</summary>
    private SiloEntry Choose(WorkerHandle worker, IReadOnlyList<SiloEntry> usable) =>
        Enumerable.Range(0, usable.Count).Select(i => usable[(worker.Index + i) % usable.Count]).OrderBy(Load).First();

    private int Load(SiloEntry silo) => workers.Count(w => w.Status != WorkerStatus.Homeless && w.Home!.Route.Equals(silo.Route));

    /// <summary>A new incarnation of <paramref name="worker"/> on <paramref name="home"/>, uploaded in the background (under the lock).</summary>
    private void Start(WorkerHandle worker, SiloEntry home)
    {
        var ticket = new WorkerTicket(run, worker.Index, ++incarnations[worker.Index], token);
        var service = client.GetGrain<IShardWorkers>(ShardWorkers.At(home.Route));
        worker.Ticket = ticket;
        worker.Home = home;
        worker.Service = service;
        worker.Silo = home.Silo;
        worker.Status = WorkerStatus.Starting;
        worker.WeightsVersion = 0;
        starting.Add(Enlist(worker, ticket, service, home));
    }

    private async Task Enlist(WorkerHandle worker, WorkerTicket ticket, IShardWorkers service, SiloEntry home)
    {
        try
        {
            var silo = await upload(ticket, service).ConfigureAwait(false);
            lock (workers)
            {
                if (worker.Ticket != ticket)
                {
                    return;
                }

                worker.Silo = silo;
                worker.Status = WorkerStatus.Ready;
            }

            record(WorkerEventKind.Started, worker, null);
        }
        catch (WorkerLostException e)
        {
            lock (workers)
            {
                if (worker.Ticket == ticket)
                {
                    worker.Status = WorkerStatus.Homeless;
                }
            }

            if (e.Unreachable)
            {
                silos.Suspect(home);
            }

            Stop(service, ticket);
        }
        catch (Exception e)
        {
            // Not a machine failure: a worker refused the run (say, beyond its silo's size
            // limit). The run stops with it, on the training thread.
            lock (workers)
            {
                fatal ??= e;
            }
        }
    }

    private void ThrowIfFatal()
    {
        lock (workers)
        {
            if (fatal is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fatal);
            }
        }
    }

    /// <summary>Lets an incarnation go (best effort, not awaited, bounded by the timeout).</summary>
    private void Stop(IShardWorkers service, WorkerTicket ticket) =>
        _ = Task.Run(() => service.StopAsync(ticket).WaitAsync(timeout)).ContinueWith(t => t.Exception, TaskScheduler.Default);

    /// <summary>Lets every worker go (best effort, within the timeout): the run is over.</summary>
    public void Dispose()
    {
        silos.Dispose();
        (IShardWorkers Service, WorkerTicket Ticket)[] held;
        lock (workers)
        {
            held = workers.Where(w => w.Status != WorkerStatus.Homeless).Select(w => (w.Service!, w.Ticket!)).ToArray();
        }

        try
        {
            Task.WhenAll(held.Select(h => Task.Run(() => h.Service.StopAsync(h.Ticket)))).WaitAsync(timeout).GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // The workers are gone already, or their silos will drop them once idle.
        }
    }
}
