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
    /// The ready workers (in number order), after starting those that need a silo. When none is
    /// ready, waits for one to start: as long as a start is under way (each of its calls is
    /// bounded by the call timeout), and while none is for the call timeout and until the view of
    /// the silos has been renewed since (at most two call timeouts); then
    /// <see cref="WorkerLostException"/>.
    /// </summary>
    public async Task<IReadOnlyList<WorkerHandle>> ReadyAsync()
    {
        var span = (long)timeout.TotalMilliseconds;
        var since = Environment.TickCount64;
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

                pending = starting.Where(t => !t.IsCompleted).ToArray();
            }

            var now = Environment.TickCount64;
            if (pending.Length > 0)
            {
                since = now;
            }
            else if (now - since >= span && (silos.Refreshed > since || now - since >= 2 * span))
            {
                throw new WorkerLostException("no worker is left, and none started again within the timeout", unreachable: true);
            }

            await Task.WhenAny(pending.Append(Task.Delay(250))).ConfigureAwait(false);
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
            Reroute(worker);
            return (worker.Ticket!, worker.Service!, worker.WeightsVersion);
        }
    }

    /// <summary>
    /// Sends the worker's calls straight to its silo's gateway once this client knows that gateway
    /// (under the lock). A worker started before then is called at its silo's own address, through
    /// whichever gateway the client picks: one that freezes would hold up the calls of workers on
    /// live silos for as long as it stays frozen.
    /// </summary>
    private void Reroute(WorkerHandle worker)
    {
        if (worker.Home is { } home && home.Route.Generation != 0 && silos.RouteOf(home.Silo) is { Generation: 0 } gateway)
        {
            worker.Home = home with { Route = gateway };
            worker.Service = client.GetGrain<IShardWorkers>(ShardWorkers.At(gateway));
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
    private Task Move(WorkerHandle worker, SiloEntry home)
    {
        var (old, ticket) = (worker.Ticket!, worker.Ticket! with { Incarnation = ++incarnations[worker.Index] });
        var service = client.GetGrain<IShardWorkers>(ShardWorkers.At(home.Route));
        return Launch(ticket, service, home, worker, silo =>
        {
            if (worker.Ticket != old || worker.Status != WorkerStatus.Ready)
            {
                return false;
            }

            Stop(worker.Service!, old);
            (worker.Ticket, worker.Home, worker.Service, worker.Silo, worker.WeightsVersion) = (ticket, home, service, silo, 0);
            return true;
        });
    }

    /// <summary>The usable silo with the fewest workers; among equals the first from the worker's own number on (so worker i starts on silo i modulo their number).</summary>
    private SiloEntry Choose(WorkerHandle worker, IReadOnlyList<SiloEntry> usable) =>
        Enumerable.Range(0, usable.Count).Select(i => usable[(worker.Index + i) % usable.Count]).OrderBy(Load).First();

    private int Load(SiloEntry silo) => workers.Count(w => w.Status != WorkerStatus.Homeless && w.Home!.Silo == silo.Silo);

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

    private Task Enlist(WorkerHandle worker, WorkerTicket ticket, IShardWorkers service, SiloEntry home) =>
        Launch(ticket, service, home, worker, silo =>
        {
            if (worker.Ticket != ticket)
            {
                return false;
            }

            (worker.Silo, worker.Status) = (silo, WorkerStatus.Ready);
            return true;
        });

    /// <summary>
    /// Uploads the incarnation <paramref name="ticket"/> of <paramref name="worker"/>; once it is
    /// ready, <paramref name="takeOver"/> (under the lock) puts it in place, or says it came too
    /// late. When its silo fails it, the silo becomes a suspect and a worker that was starting
    /// there needs a silo again; any other failure (a worker that refuses the run, say beyond its
    /// silo's size limit) stops the run, on the training thread.
    /// </summary>
    private async Task Launch(WorkerTicket ticket, IShardWorkers service, SiloEntry home, WorkerHandle worker, Func<string, bool> takeOver)
    {
        try
        {
            var silo = await upload(ticket, service).ConfigureAwait(false);
            bool took;
            lock (workers)
            {
                took = takeOver(silo);
            }

            if (took)
            {
                record(WorkerEventKind.Started, worker, null);
            }
            else
            {
                Stop(service, ticket);
            }
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
