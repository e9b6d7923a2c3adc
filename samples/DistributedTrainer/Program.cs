using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Threading;
using FunctionalBackprop;
using FunctionalBackprop.Orleans;
using FunctionalBackprop.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;
using Spectre.Console;

// The main job on several machines. `silo N` runs a silo that hosts shard workers; `train`
// trains the bundled digits with the main job's options on the silos already running, each
// mini-batch's shards computed by --workers workers, and prints the main job's lines.
var redis = new Option<string?>("--redis") { Description = "host:port of a Redis server holding the cluster's membership table (for real machines); without it, silos and coordinator meet on loopback." };
var address = new Option<string>("--address") { Description = "With --redis, the address this silo advertises to the others (this machine's address on the network).", DefaultValueFactory = _ => "127.0.0.1" };
var siloPort = new Option<int>("--silo-port") { Description = "Silo N listens for silos on this port + N (silo 0's is the primary silo on loopback).", DefaultValueFactory = _ => 11111 };
var gatewayPort = new Option<int>("--gateway-port") { Description = "Silo N listens for clients on this port + N.", DefaultValueFactory = _ => 30000 };
var clusterId = new Option<string>("--cluster-id") { Description = "The cluster's name: silos and coordinator must give the same.", DefaultValueFactory = _ => "functionalbackprop" };

var number = new Argument<int>("N") { Description = "The silo's number, from 0." };
var silo = new Command("silo", "Runs silo N, which hosts shard workers, until Ctrl+C.") { number };

var main = new CommandLine();
var workers = new Option<int>("--workers") { Description = "Workers (grains) that compute each mini-batch's shards, spread over the silos; also the shard count unless --shards is given.", DefaultValueFactory = _ => 3 };
var silos = new Option<int?>("--silos") { Description = "On loopback, how many silos run (their gateways are tried): by default as many as workers." };
var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for any one answer of a worker before its shards go to another.", DefaultValueFactory = _ => 30 };
CommandLine.AtLeast(workers, 1, "at least 1");
var train = new Command("train", "Trains the bundled MNIST digits on the silos already running, with the main job's options.");
foreach (var option in main.All.Concat(new Option[] { workers, silos, timeout }))
{
    train.Options.Add(option);
}

var root = new RootCommand("FunctionalBackprop's main job on an Orleans cluster: silos that compute shards, and a coordinator that trains on them.") { silo, train };
foreach (var option in new Option[] { redis, address, siloPort, gatewayPort, clusterId })
{
    option.Recursive = true;
    root.Options.Add(option);
}

var parsed = root.Parse(args);
if (CommandLine.ReportErrors(parsed))
{
    return 2;
}

if (parsed.CommandResult.Command == root || args.Any(a => a is "--help" or "-h" or "-?" or "--version"))
{
    return parsed.Invoke();
}

var cluster = new Cluster(parsed.GetValue(redis), System.Net.IPAddress.Parse(parsed.GetValue(address)!), parsed.GetValue(siloPort), parsed.GetValue(gatewayPort), parsed.GetValue(clusterId)!);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

if (parsed.CommandResult.Command == silo)
{
    var n = parsed.GetValue(number);
    using var host = cluster.Silo(n);
    await host.StartAsync();
    Console.WriteLine($"Silo {n} is up: {cluster}; Ctrl+C stops it.");
    try
    {
        await host.WaitForShutdownAsync(stop.Token);
    }
    catch (OperationCanceledException)
    {
    }

    await host.StopAsync();
    return 0;
}

try
{
    var settings = main.Read(parsed);
    var k = parsed.GetValue(workers);
    // The shard count decides the bits: with --shards the same as the main job's --shards.
    settings = parsed.GetResult(main.Shards) is { Implicit: false } ? settings : settings with { Shards = k };
    using var client = cluster.Client(parsed.GetValue(silos) ?? k);
    await client.StartAsync(stop.Token);
    var options = new DistributedTrainingOptions
    {
        Workers = k,
        CallTimeout = TimeSpan.FromSeconds(parsed.GetValue(timeout)),
        Events = new WorkerLog(e => AnsiConsole.MarkupLine(Markup.Escape(e.Kind == WorkerEventKind.Started
            ? $"Worker {e.Worker} on silo {e.Silo}"
            : $"Worker {e.Worker} on silo {e.Silo} lost after step {e.Step} ({e.Reason}); its shards go to the others"))),
    };
    var trainer = new DistributedTrainer(client.Services.GetRequiredService<IClusterClient>(), options);
    var run = new Run(trainer);
    var where = $"on {k} worker(s) of the cluster ({cluster})";
    var code = settings.Float32 ? Trainer.Run<float>(settings, stop.Token, run.Fit, where) : Trainer.Run<double>(settings, stop.Token, run.Fit, where);
    await client.StopAsync();
    return code;
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or TrainingDivergedException or NoLiveWorkerException or Orleans.Runtime.OrleansException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

namespace FunctionalBackprop.Samples
{
    /// <summary>Worker events printed on the training thread, in step with the epochs.</summary>
    internal sealed class WorkerLog(Action<WorkerEvent> print) : IProgress<WorkerEvent>
    {
        public void Report(WorkerEvent value) => print(value);
    }

    /// <summary>The main job's Fit on the cluster: from scratch or from a checkpoint.</summary>
    internal sealed class Run(DistributedTrainer trainer)
    {
        public FitResult<T> Fit<T>(NeuralNetwork<T> network, Dataset<T> data, FitOptions<T> options, IProgress<EpochReport> progress, TrainingCheckpoint<T>? from, CancellationToken cancellationToken)
            where T : IFloatingPointIeee754<T> =>
            from is null
                ? trainer.Fit(network, data, options, progress, cancellationToken)
                : trainer.Resume(from, data, options, progress, cancellationToken);
    }
}
