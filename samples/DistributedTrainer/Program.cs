using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Net;
using System.Numerics;
using System.Threading;
using System.Threading.Tasks;
using FunctionalBackprop;
using FunctionalBackprop.Orleans;
using FunctionalBackprop.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;
using Spectre.Console;

// The main job on several machines. `silo N` runs a silo that hosts shard workers; `train`
// trains the bundled digits with the main job's options on the silos already running, each
// mini-batch's shards computed by --workers workers, and prints the main job's lines;
// `certificate PATH` makes the cluster's certificate for mutual TLS.
var cli = new ClusterCommandLine();
var main = new CommandLine();
var silo = new Command("silo", "Runs silo N, which hosts shard workers, until Ctrl+C.") { cli.Number, cli.MaxUploadMegabytes };
var train = new Command("train", "Trains the bundled MNIST digits on the silos already running, with the main job's options.");
foreach (var option in main.All.Concat(new Option[] { cli.Workers, cli.Silos, cli.Timeout, cli.ConnectTimeout }))
{
    train.Options.Add(option);
}

var certificate = new Command("certificate", "Makes a cluster certificate (self-signed, with its private key) for --certificate: copy the file to every machine of the cluster, and to no other.") { cli.Path, cli.Days };
var root = new RootCommand("FunctionalBackprop's main job on an Orleans cluster: silos that compute shards, and a coordinator that trains on them.") { silo, train, certificate };
foreach (var option in new Option[] { cli.Redis, cli.Address, cli.SiloPort, cli.GatewayPort, cli.ClusterId, cli.Certificate, cli.Insecure })
{
    option.Recursive = true;
    root.Options.Add(option);
}

var parsed = root.Parse(args);
if (CommandLine.ReportErrors(parsed))
{
    return Usage.UsageError;
}

if (parsed.CommandResult.Command == root || args.Any(a => a is "--help" or "-h" or "-?" or "--version"))
{
    return parsed.Invoke();
}

if (parsed.CommandResult.Command == certificate)
{
    var path = parsed.GetValue(cli.Path)!;
    try
    {
        ClusterCertificates.Create(path, parsed.GetValue(cli.Days));
    }
    catch (IOException e)
    {
        return Usage.Fail($"cannot write the certificate to {path}: {e.Message}", Usage.RunError);
    }

    Console.WriteLine($"Wrote the cluster certificate and its private key to {path}: give it with --certificate to every silo and coordinator.");
    return 0;
}

var address = IPAddress.Parse(parsed.GetValue(cli.Address)!);
var certificatePath = parsed.GetValue(cli.Certificate);
if (parsed.CommandResult.Command == silo && parsed.GetValue(cli.Redis) is not null && !IPAddress.IsLoopback(address) && certificatePath is null && !parsed.GetValue(cli.Insecure))
{
    return Usage.Fail($"--address {address} is beyond loopback, and without TLS anyone who reaches the silo's ports joins the cluster: give --certificate (see the certificate command), or --insecure on a network you trust.", Usage.UsageError);
}

Cluster cluster;
try
{
    cluster = new Cluster(parsed.GetValue(cli.Redis), address, parsed.GetValue(cli.SiloPort), parsed.GetValue(cli.GatewayPort), parsed.GetValue(cli.ClusterId)!, certificatePath is null ? null : ClusterCertificates.Load(certificatePath));
}
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
{
    return Usage.Fail(e.Message.StartsWith("--certificate", StringComparison.Ordinal) ? e.Message : $"--certificate: {e.Message}", Usage.RunError);
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    return parsed.CommandResult.Command == silo ? await RunSilo() : await Train();
}
catch (Exception e) when (Failure.Of(e, cluster) is { } message)
{
    return Usage.Fail(message, Usage.RunError);
}

async Task<int> RunSilo()
{
    var n = parsed.GetValue(cli.Number);
    using var host = cluster.Silo(n, (long)parsed.GetValue(cli.MaxUploadMegabytes) << 20);
    await host.StartAsync(stop.Token);
    cluster.Logs.Open = true;
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

async Task<int> Train()
{
    var settings = main.Read(parsed);
    var k = parsed.GetValue(cli.Workers);
    // The shard count decides the bits: with --shards the same as the main job's --shards.
    settings = parsed.GetResult(main.Shards) is { Implicit: false } ? settings : settings with { Shards = k };
    var connect = TimeSpan.FromSeconds(parsed.GetValue(cli.ConnectTimeout));
    using var client = cluster.Client(parsed.GetValue(cli.Silos) ?? k, connect);
    using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
    {
        connecting.CancelAfter(connect);
        try
        {
            await client.StartAsync(connecting.Token).WaitAsync(connect + TimeSpan.FromSeconds(5), stop.Token);
        }
        catch (Exception e) when (!stop.IsCancellationRequested && e is OperationCanceledException or TimeoutException or Orleans.Runtime.OrleansException or System.Net.Sockets.SocketException)
        {
            throw new ClusterUnreachableException($"no silo of the cluster ({cluster}) answered within {connect.TotalSeconds:0.###} s (--connect-timeout): {e.Message}", e);
        }
    }

    cluster.Logs.Open = true;

    var options = new DistributedTrainingOptions
    {
        Workers = k,
        CallTimeout = TimeSpan.FromSeconds(parsed.GetValue(cli.Timeout)),
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
