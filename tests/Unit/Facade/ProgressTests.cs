using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using System.Xml.Linq;
using Xunit;

namespace FunctionalBackprop.Tests.Facade;

/// <summary>Progress arrives on the training thread, in step with training: every batch if asked, every epoch always.</summary>
public class ProgressTests
{
    private static readonly double[][] Inputs = Enumerable.Range(0, 10).Select(j => new[] { j / 10.0, (j % 3) / 3.0 }).ToArray();
    private static readonly int[] Labels = Enumerable.Range(0, 10).Select(j => j % 2).ToArray();

    private static NeuralNetwork<double> Network() => NeuralNetwork.Create(2).Dense(3, Activation.Tanh).Dense(1, Activation.Sigmoid).Build(seed: 3);

    [Fact]
    public void BatchAndEpochReportsArriveInOrderOnTheTrainingThreadBeforeFitReturns()
    {
        var events = new List<(string Kind, int Epoch, int Batch, long Step, int Thread)>();
        var progress = new TrainingProgress(
            e => events.Add(("epoch", e.Epoch, 0, 0, Environment.CurrentManagedThreadId)),
            b => events.Add(("batch", b.Epoch, b.Batch, b.Step, Environment.CurrentManagedThreadId)));
        var result = Network().Fit(Inputs, Labels, new FitOptions { Epochs = 3, BatchSize = 4 }, progress);

        // 10 examples in batches of 4: 3 batches, then the epoch, three times over.
        var expected = Enumerable.Range(1, 3).SelectMany(e => Enumerable.Range(1, 3).Select(b => ("batch", e, b)).Append(("epoch", e, 0)));
        Assert.Equal(expected, events.Select(x => (x.Kind, x.Epoch, x.Batch)));
        Assert.Equal(Enumerable.Range(1, 9).Select(s => (long)s), events.Where(x => x.Kind == "batch").Select(x => x.Step));
        Assert.All(events, x => Assert.Equal(Environment.CurrentManagedThreadId, x.Thread));
        Assert.Equal(3, result.History.Count);
    }

    [Fact]
    public void ABatchReportCarriesTheBatchLossAndTheRunningMean()
    {
        var batches = new List<BatchReport>();
        var epochs = new List<EpochReport>();
        Network().Fit(Inputs, Labels, new FitOptions { Epochs = 2, BatchSize = 3 }, new TrainingProgress(epochs.Add, batches.Add));
        Assert.All(batches, b => Assert.Equal(4, b.BatchesPerEpoch));
        Assert.All(batches, b => Assert.Equal(2, b.Epochs));
        var first = batches.Where(b => b.Epoch == 1).ToArray();
        Assert.Equal(first.Select(b => b.BatchLoss).Average(), first[^1].RunningLoss, 15);
        Assert.Equal(first[^1].RunningLoss, epochs[0].TrainingLoss);
    }

    [Fact]
    public async Task FitAsyncReportsOnItsOwnTrainingThreadBeforeItsTaskCompletes()
    {
        var threads = new HashSet<int>();
        var count = 0;
        var progress = new TrainingProgress(_ => { threads.Add(Environment.CurrentManagedThreadId); count++; }, _ => threads.Add(Environment.CurrentManagedThreadId));
        var task = Network().FitAsync(Inputs, Labels, new FitOptions { Epochs = 20, BatchSize = 2 }, progress);
        var result = await task;
        Assert.Equal(20, count);
        Assert.Single(threads);
        Assert.Equal(20, result.History.Count);
    }

    [Fact]
    public void AnEpochOnlyReporterIsNotAskedForBatches()
    {
        var epochs = new List<EpochReport>();
        var result = Network().Fit(Inputs, Labels, new FitOptions { Epochs = 4 }, new TrainingProgress(epochs.Add));
        Assert.Equal(result.History, epochs);
    }

    [Fact]
    public void TheConsoleReporterWritesALinePerEpochAndEveryKBatches()
    {
        var writer = new StringWriter();
        var validation = Dataset<double>.FromLabels(Inputs, Labels, 2, singleOutput: true);
        Network().Fit(Inputs, Labels, new FitOptions { Epochs = 2, BatchSize = 2, ValidationData = validation }, TrainingProgress.WriteTo(writer, batchInterval: 2));
        var lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        // 5 batches per epoch: lines after batches 2, 4 and 5 (the last), then the epoch's.
        Assert.Equal(8, lines.Length);
        Assert.Matches(@"^Epoch 1/2, batch 2/5: loss \d+\.\d{4} \(epoch so far \d+\.\d{4}\)$", lines[0]);
        Assert.Matches(@"^Epoch 1/2, batch 5/5: ", lines[2]);
        Assert.Matches(@"^Epoch 2/2: loss \d+\.\d{4}, validation loss \d+\.\d{4}, accuracy \d+\.\d{2} %, \d+\.\d s$", lines[7]);
    }

    /// <summary>The warning against <see cref="Progress{T}"/> is where a caller reads: the progress parameter's doc.</summary>
    [Fact]
    public void TheDocsOfFitsProgressWarnAgainstProgressOfT()
    {
        var xml = XDocument.Load(Path.Combine(AppContext.BaseDirectory, "FunctionalBackprop.xml"));
        var fit = xml.Descendants("member").Single(m => m.Attribute("name")!.Value.StartsWith("M:FunctionalBackprop.NeuralNetwork`1.Fit(FunctionalBackprop.Dataset{`0}", StringComparison.Ordinal));
        var progress = fit.Elements("param").Single(p => p.Attribute("name")!.Value == "progress");
        Assert.Contains("T:System.Progress`1", progress.Descendants("see").Select(s => s.Attribute("cref")!.Value));
        Assert.Contains("training thread", progress.Value);
    }
}
