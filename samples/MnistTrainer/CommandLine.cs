using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;

namespace FunctionalBackprop.Samples;

/// <summary>
/// The main job's training options (network, dropout, loss, optimizer, schedule, epochs, batch,
/// seed, data, outputs, checkpoints), each checked while parsing, and the <see cref="Settings"/> they make. The
/// main job and samples/DistributedTrainer parse with the same options.
/// </summary>
internal sealed class CommandLine
{
    public Option<string> Data { get; } = new("--data") { Description = "Folder with the four MNIST IDX files (.gz or raw).", DefaultValueFactory = _ => "data/mnist-10k" };

    public Option<string> Network { get; } = new("--network") { Description = "dense: 784 inputs, the --hidden layers, 10 outputs (Nielsen's networks). lenet: LeNet-5 on the digits as 1×28×28 images (conv 5×5 ×6 pad 2, max 2×2, conv 5×5 ×16, max 2×2, 120, 84, 10; ReLU), whose own defaults (float32, cross-entropy, heavy-ball η 0.05 β 0.9, cosine schedule, He init, batch 64 in 2 shards, 6 epochs, --l2 10, --dropout 0.3, --shift 1) apply to the options not given.", DefaultValueFactory = _ => "dense" };

    public Option<string> Hidden { get; } = new("--hidden") { Description = "Hidden layer widths, comma-separated (30 gives 784-30-10; 100,50 gives 784-100-50-10).", DefaultValueFactory = _ => "30" };

    public Option<string> Activation { get; } = new("--activation") { Description = "Hidden layers' activation.", DefaultValueFactory = _ => "sigmoid" };

    public Option<string> Loss { get; } = new("--loss") { Description = "Cost: quadratic (sigmoid outputs), cross-entropy (softmax outputs) or binary-cross-entropy (sigmoid outputs).", DefaultValueFactory = _ => "quadratic" };

    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "How the weights move.", DefaultValueFactory = _ => "sgd" };

    public Option<double> Rate { get; } = new("--learning-rate", "--eta") { Description = "The learning rate η (Adam's α).", DefaultValueFactory = _ => 3.0 };

    public Option<double> Momentum { get; } = new("--momentum") { Description = "β for heavy-ball and Nesterov, μ for the lecture's momentum.", DefaultValueFactory = _ => 0.9 };

    public Option<string> Schedule { get; } = new("--schedule") { Description = "Learning-rate schedule: constant, inverse-time (η/t per step), step (×decay every 10 epochs), exponential (×decay per epoch), cosine (to η/100).", DefaultValueFactory = _ => "constant" };

    public Option<double> Decay { get; } = new("--decay") { Description = "The factor of the step and exponential schedules.", DefaultValueFactory = _ => 0.5 };

    public Option<string> Init { get; } = new("--init") { Description = "How first weights are drawn: standard-normal (network.py), scaled-normal (network2.py), xavier, he, small-uniform.", DefaultValueFactory = _ => "standard-normal" };

    public Option<int> Epochs { get; } = new("--epochs") { Description = "Epochs to train.", DefaultValueFactory = _ => 30 };

    public Option<int> Batch { get; } = new("--batch-size") { Description = "Examples per update: 1 is stochastic, 8000 (all) is batch descent.", DefaultValueFactory = _ => 10 };

    public Option<int> Shards { get; } = new("--shards") { Description = "Shards each mini-batch is split into, trained at once on as many cores; the same count gives the same bits on any machine. 0 (the default) chooses: 1 with a native BLAS, one per core with the managed kernel.", DefaultValueFactory = _ => 0 };

    public Option<long> Seed { get; } = new("--seed") { Description = "Seed of the first weights and of the shuffles; the same seed gives the same run.", DefaultValueFactory = _ => 1 };

    public Option<double> L2 { get; } = new("--l2") { Description = "L2 regularisation λ (network2.py's form); 0 turns it off.", DefaultValueFactory = _ => 0 };

    public Option<double> Dropout { get; } = new("--dropout") { Description = "Dropout rate after each hidden layer: the chance that a hidden unit is dropped in each training step (inverted dropout, scaled by 1/(1 − rate); none when testing). 0 (the default) adds no dropout layers.", DefaultValueFactory = _ => 0 };

    public Option<int> Shift { get; } = new("--shift") { Description = "Adds to the training digits four copies of each, moved by this many pixels down, up, right and left (5× the examples per epoch; the test digits stay as they are). 0 (the default) adds none.", DefaultValueFactory = _ => 0 };

    public Option<bool> Float32 { get; } = new("--float32") { Description = "Train in float32 instead of float64 (LeNet's default; --float32 false trains it in float64)." };

    public Option<string> Model { get; } = new("--model") { Description = "Where to save the trained model.", DefaultValueFactory = _ => "out/mnist.fbnn" };

    public Option<string> Plot { get; } = new("--plot") { Description = "Where to save the learning curve (PNG).", DefaultValueFactory = _ => "out/learning-curve.png" };

    public Option<string?> Onnx { get; } = new("--onnx") { Description = "Also save the trained model as ONNX (opset 13, IR version 7) to this file, for ONNX Runtime and other ONNX consumers." };

    public Option<string?> Checkpoint { get; } = new("--checkpoint") { Description = "Save the run's checkpoint (network, optimizer state, epoch, step) to this file when the run ends or is stopped with Ctrl+C, and while it runs with --checkpoint-every; each save replaces the file atomically." };

    public Option<(int Every, ScheduleUnit Unit)?> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "With --checkpoint, also save it while the run goes on: every N optimizer steps (--checkpoint-every 500) or every N epochs (--checkpoint-every 2e).", CustomParser = ParseInterval };

    public Option<string?> Resume { get; } = new("--resume") { Description = "Continue from this checkpoint (saved with --checkpoint) up to --epochs, with the options of the run that saved it: the result is the uninterrupted run's, bit for bit." };

    public CommandLine()
    {
        Network.AcceptOnlyFromAmong(Settings.Networks);
        Activation.AcceptOnlyFromAmong(Settings.Activations);
        Loss.AcceptOnlyFromAmong(Settings.Losses);
        Optimizer.AcceptOnlyFromAmong(Settings.Optimizers);
        Schedule.AcceptOnlyFromAmong(Settings.Schedules);
        Init.AcceptOnlyFromAmong(Settings.Initializers);
        AtLeast(Epochs, 1, "at least 1");
        AtLeast(Batch, 1, "at least 1");
        AtLeast(Shards, 0, "0 (automatic) or more");
        AtLeast(L2, 0.0, "0 or more");
        Require(Rate, value => value > 0 && double.IsFinite(value), value => $"{Rate.Name} must be a positive number, got {value}.");
        Require(Momentum, value => value >= 0 && value < 1, value => $"--momentum must lie in [0, 1), got {value}.");
        Require(Dropout, value => value >= 0 && value < 1, value => $"--dropout must lie in [0, 1), got {value}.");
        Require(Shift, value => value >= 0 && value <= 27, value => $"--shift must lie in [0, 27] (fewer pixels than the digits' 28 rows), got {value}.");
        Require(Decay, value => value > 0 && value <= 1, value => $"--decay must lie in (0, 1], got {value}.");
        CheckpointEvery.Validators.Add(result =>
        {
            if (result.GetResult(Checkpoint) is null)
            {
                result.AddError("--checkpoint-every needs --checkpoint, the file to save to.");
            }
        });
    }

    /// <summary>Every option, for a command to take.</summary>
    public Option[] All => new Option[] { Data, Network, Hidden, Activation, Loss, Optimizer, Rate, Momentum, Schedule, Decay, Init, Epochs, Batch, Shards, Seed, L2, Dropout, Shift, Float32, Model, Plot, Onnx, Checkpoint, CheckpointEvery, Resume };

    /// <summary>The settings a parse gave (the data folder found, the hidden widths read; for LeNet, its defaults where an option was not given).</summary>
    public Settings Read(ParseResult parsed)
    {
        var lenet = parsed.GetValue(Network) == "lenet";
        T Value<T>(Option<T> option, T lenetDefault) => lenet && parsed.GetResult(option) is null or { Implicit: true } ? lenetDefault : parsed.GetValue(option)!;
        return new(
            Settings.FindData(parsed.GetValue(Data)!), parsed.GetValue(Network)!, Settings.ParseHidden(parsed.GetValue(Hidden)!), Value(Activation, "relu"), Value(Loss, "cross-entropy"),
            Value(Optimizer, "heavy-ball"), Value(Rate, 0.05), parsed.GetValue(Momentum), Value(Schedule, "cosine"), parsed.GetValue(Decay),
            Value(Init, "he"), Value(Epochs, 6), Value(Batch, 64), Value(Shards, 2), parsed.GetValue(Seed), Value(L2, 10.0), Value(Dropout, 0.3), Value(Shift, 1),
            Value(Float32, true), parsed.GetValue(Model)!, parsed.GetValue(Plot)!, parsed.GetValue(Onnx),
            parsed.GetValue(Checkpoint), parsed.GetValue(CheckpointEvery), parsed.GetValue(Resume));
    }

    /// <summary>"500" (steps) or "2e" (epochs), at least 1; otherwise an error naming the option.</summary>
    private static (int Every, ScheduleUnit Unit)? ParseInterval(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
        var epochs = text.EndsWith('e');
        if (int.TryParse(epochs ? text[..^1] : text, NumberStyles.None, CultureInfo.InvariantCulture, out var every) && every >= 1)
        {
            return (every, epochs ? ScheduleUnit.Epochs : ScheduleUnit.Steps);
        }

        result.AddError($"--checkpoint-every takes a number of steps (500) or of epochs (2e), at least 1; '{text}' is neither.");
        return null;
    }

    /// <summary>Prints the parse's errors one line each (even where the parser lists choices line by line), exit code 2; false when there were none.</summary>
    public static bool ReportErrors(ParseResult parsed)
    {
        if (parsed.Errors.Count == 0)
        {
            return false;
        }

        foreach (var error in parsed.Errors)
        {
            Console.Error.WriteLine(Usage.Line(error.Message));
        }

        return true;
    }

    // Ranges are checked while parsing, so a bad value is reported like any other option error.
    public static void AtLeast<TValue>(Option<TValue> option, TValue least, string what)
        where TValue : IComparable<TValue> =>
        Require(option, value => value.CompareTo(least) >= 0, value => $"{option.Name} must be {what}, got {value}.");

    /// <summary>
    /// Adds the error <paramref name="message"/> gives when the option's value fails <paramref name="ok"/>.
    /// A value that does not parse at all is left to the parser, which reports it naming the option.
    /// </summary>
    public static void Require<TValue>(Option<TValue> option, Func<TValue, bool> ok, Func<TValue, string> message) =>
        option.Validators.Add(result =>
        {
            TValue value;
            try
            {
                value = result.GetValueOrDefault<TValue>();
            }
            catch (InvalidOperationException)
            {
                // The value does not parse: the parser reports that itself, naming the option.
                return;
            }

            if (!ok(value))
            {
                result.AddError(message(value));
            }
        });
}
