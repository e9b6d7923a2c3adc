using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using FunctionalBackprop;
using FunctionalBackprop.Samples;

// The main job: train on the bundled MNIST digits. With no options it is Nielsen's chapter 1
// network: 784-30-10, sigmoid, quadratic cost, SGD with η = 3.0, mini-batches of 10, 30 epochs.
var options = new CommandLine();
var root = new RootCommand("Trains a feed-forward network on MNIST digits with FunctionalBackprop and reports test accuracy per epoch.");
foreach (var option in options.All)
{
    root.Options.Add(option);
}

var parsed = root.Parse(args);
if (CommandLine.ReportErrors(parsed))
{
    return Usage.UsageError;
}

if (parsed.Action is not null && parsed.CommandResult.Command == root && args.Any(a => a is "--help" or "-h" or "-?" or "--version"))
{
    return parsed.Invoke();
}

// Ctrl+C stops training between batches; the run then ends as usual (and saves its checkpoint with --checkpoint).
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    var settings = options.Read(parsed);
    return settings.Float32 ? Trainer.Run<float>(settings, stop.Token) : Trainer.Run<double>(settings, stop.Token);
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or TrainingDivergedException)
{
    return Usage.Fail(e.Message, Usage.RunError);
}
