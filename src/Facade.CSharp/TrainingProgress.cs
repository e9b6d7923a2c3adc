using System;
using System.Globalization;
using System.IO;

namespace FunctionalBackprop;

/// <summary>
/// Progress reports delivered synchronously on the training thread, in step with training: pass
/// one as the progress of <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, IProgress{EpochReport}?, System.Threading.CancellationToken)"/>.
/// It is told after every epoch and, when made with a batch action (or a batch interval for the
/// console), after every mini-batch. Use it rather than <see cref="Progress{T}"/>, which posts each
/// report to the synchronization context it captured (the thread pool, in a console app), so its
/// reports arrive late and out of order, possibly after Fit has returned.
/// <code>
/// network.Fit(training, options, TrainingProgress.ToConsole());
/// network.Fit(training, options, new TrainingProgress(epoch => curve.Add(epoch.TrainingLoss)));
/// </code>
/// </summary>
public sealed class TrainingProgress : IProgress<EpochReport>, IProgress<BatchReport>
{
    private readonly Action<EpochReport>? onEpoch;
    private readonly Action<BatchReport>? onBatch;

    /// <summary>Calls the actions on the training thread; training waits for them, so keep them short.</summary>
    /// <param name="onEpoch">Called after every epoch, if given.</param>
    /// <param name="onBatch">Called after every mini-batch, if given (training then reports every batch).</param>
    public TrainingProgress(Action<EpochReport>? onEpoch = null, Action<BatchReport>? onBatch = null)
    {
        this.onEpoch = onEpoch;
        this.onBatch = onBatch;
    }

    /// <summary>Whether batch reports are wanted; Fit asks the core for them only then.</summary>
    internal bool WantsBatches => onBatch is not null;

    /// <summary>
    /// Writes one line per epoch to the console (standard output):
    /// <c>Epoch 3/30: loss 0.1234, validation loss 0.1500, accuracy 95.10 %, 1.2 s</c>, and with a
    /// batch interval k, a line every k batches.
    /// </summary>
    /// <param name="batchInterval">Write a line every this many batches as well; 0 (the default) for epochs only.</param>
    public static TrainingProgress ToConsole(int batchInterval = 0) => WriteTo(Console.Out, batchInterval);

    /// <summary>Writes the console's lines to any writer (a log file, a string for tests).</summary>
    /// <param name="writer">Where the lines go; not closed.</param>
    /// <param name="batchInterval">Write a line every this many batches as well; 0 for epochs only.</param>
    public static TrainingProgress WriteTo(TextWriter writer, int batchInterval = 0)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfNegative(batchInterval);
        return new TrainingProgress(
            epoch => writer.WriteLine(Line(epoch)),
            batchInterval == 0 ? null : batch =>
            {
                if (batch.Batch % batchInterval == 0 || batch.Batch == batch.BatchesPerEpoch)
                {
                    writer.WriteLine(Line(batch));
                }
            });
    }

    /// <summary>Calls the epoch action.</summary>
    /// <param name="value">The report.</param>
    public void Report(EpochReport value) => onEpoch?.Invoke(value);

    /// <summary>Calls the batch action.</summary>
    /// <param name="value">The report.</param>
    public void Report(BatchReport value) => onBatch?.Invoke(value);

    private static string Line(EpochReport r)
    {
        var validation = r.ValidationLoss is { } loss ? Format($", validation loss {loss:F4}") : string.Empty;
        var accuracy = r.ValidationAccuracy is { } a ? Format($", accuracy {a * 100:F2} %") : string.Empty;
        return Format($"Epoch {r.Epoch}/{r.Epochs}: loss {r.TrainingLoss:F4}{validation}{accuracy}, {r.Elapsed.TotalSeconds:F1} s");
    }

    private static string Line(BatchReport r) =>
        Format($"Epoch {r.Epoch}/{r.Epochs}, batch {r.Batch}/{r.BatchesPerEpoch}: loss {r.BatchLoss:F4} (epoch so far {r.RunningLoss:F4})");

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
