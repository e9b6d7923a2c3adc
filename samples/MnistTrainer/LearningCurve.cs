using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace FunctionalBackprop.Samples;

/// <summary>Draws the training loss and the test accuracy per epoch into a PNG.</summary>
internal static class LearningCurve
{
    public static void Save(string path, IReadOnlyList<EpochReport> history, string title)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        var epochs = history.Select(r => (double)r.Epoch).ToArray();
        var plot = new ScottPlot.Plot();
        var loss = plot.Add.Scatter(epochs, history.Select(r => r.TrainingLoss).ToArray());
        loss.LegendText = "training loss (left)";
        var accuracy = plot.Add.Scatter(epochs, history.Select(r => 100 * (r.ValidationAccuracy ?? double.NaN)).ToArray());
        accuracy.LegendText = "test accuracy, % (right)";
        accuracy.Axes.YAxis = plot.Axes.Right;
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.Axes.Right.Label.Text = "accuracy (%)";
        plot.ShowLegend(ScottPlot.Alignment.MiddleRight);
        plot.SavePng(path, 900, 500);
    }
}
