using System;
using System.IO;
using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalBackprop.Tests;

/// <summary>
/// The main job's checkpoint options, run as a user runs them: --checkpoint-every saves while the
/// run goes on and --resume continues from it to the uninterrupted run's model file; a checkpoint
/// file that is damaged, missing or holds another network is refused in one line naming --resume
/// and the file; --checkpoint-every is refused without --checkpoint or with a value it cannot read.
/// </summary>
public sealed class MainJobCheckpointTests : IDisposable
{
    // 8,000 digits in batches of 10: 800 steps an epoch.
    private const string Run = "--epochs 2 --seed 4 --hidden 20 --batch-size 10";

    private readonly string output = Directory.CreateTempSubdirectory("fbp-mainjob-ckpt-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    private string Checkpoint => Path.Combine(output, "run.ckpt");

    private string Model => Path.Combine(output, "model.fbnn");

    [Fact]
    public void PeriodicCheckpointsChangeNothingAndARunResumedFromOneEndsWithTheUninterruptedRunsModelFile()
    {
        MainJob.Train(output, Run);
        var straight = File.ReadAllBytes(Model);

        // 1,600 steps with a checkpoint every 300 (the last one while running at step 1,500,
        // inside epoch 2); the run's end then saves step 1,600 over it.
        MainJob.Train(output, $"{Run} --checkpoint \"{Checkpoint}\" --checkpoint-every 300");
        Assert.Equal(straight, File.ReadAllBytes(Model));
        var ended = TrainingCheckpoint<double>.Load(Checkpoint);
        Assert.Equal((2, 1600L), (ended.Epoch, ended.Step));

        // One epoch, then resumed up to two in another process: the same model file. (A run
        // killed inside an epoch and resumed: tests/Orleans KillAndResumeTests.)
        var first = Path.Combine(output, "first.ckpt");
        MainJob.Train(output, $"--epochs 1 --seed 4 --hidden 20 --batch-size 10 --checkpoint \"{first}\"");
        var (_, _, text) = MainJob.Train(output, $"{Run} --resume \"{first}\"");
        // Spectre wraps long lines at the console's width: the words are compared, not the breaks.
        Assert.Contains("1 epoch(s) and 800 step(s) done", Regex.Replace(text, @"\s+", " "));
        Assert.Equal(straight, File.ReadAllBytes(Model));
    }

    /// <summary>
    /// Runs the main job with <paramref name="arguments"/>, which it must refuse: exit code 1, no
    /// stack trace, no model saved. Returns what it printed.
    /// </summary>
    private string Refused(string arguments)
    {
        File.Delete(Model);
        var (code, text) = MainJob.Run(output, arguments);
        Assert.True(code == 1, $"exited with {code}, not 1:\n{text}");
        Assert.DoesNotContain("   at ", text);
        Assert.False(File.Exists(Model), "a refused run saved a model");
        return text;
    }

    /// <summary>One epoch of the run, its checkpoint saved.</summary>
    private void SaveOneEpochsCheckpoint() =>
        MainJob.Train(output, $"--epochs 1 --seed 4 --hidden 20 --batch-size 10 --checkpoint \"{Checkpoint}\"");

    [Fact]
    public void ADamagedCheckpointIsRefusedNamingTheOptionAndTheFile()
    {
        SaveOneEpochsCheckpoint();
        var bytes = File.ReadAllBytes(Checkpoint);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(Checkpoint, bytes);

        Assert.Contains($"error: --resume {Checkpoint}: The file is corrupt", Refused($"{Run} --resume \"{Checkpoint}\""));
    }

    [Fact]
    public void AMissingCheckpointIsRefusedNamingTheOptionAndTheFile()
    {
        var missing = Path.Combine(output, "no-such.ckpt");
        Assert.Contains($"error: --resume {missing}: ", Refused($"{Run} --resume \"{missing}\""));
    }

    [Fact]
    public void ACheckpointOfAnotherNetworkIsRefusedNamingBoth()
    {
        SaveOneEpochsCheckpoint();

        var text = Refused($"--epochs 2 --seed 4 --hidden 30 --batch-size 10 --resume \"{Checkpoint}\"");

        Assert.Contains($"error: --resume {Checkpoint}: the checkpoint holds the network dense 784→20", text);
        Assert.Contains("but the options describe dense 784→30", text);
    }

    [Theory]
    [InlineData("--checkpoint-every 5", "--checkpoint-every needs --checkpoint")]
    [InlineData("--checkpoint x.ckpt --checkpoint-every 0", "--checkpoint-every takes a number of steps (500) or of epochs (2e), at least 1; '0' is neither.")]
    [InlineData("--checkpoint x.ckpt --checkpoint-every abc", "'abc' is neither")]
    public void ACheckpointIntervalThatCannotBeUsedIsRefused(string arguments, string message)
    {
        var (code, text) = MainJob.Run(output, $"--epochs 1 {arguments}");

        Assert.True(code == 2, $"{arguments} exited with {code}, not 2 (an option error):\n{text}");
        Assert.Contains(message, text);
        Assert.DoesNotContain("Epoch 1", text);
    }
}
