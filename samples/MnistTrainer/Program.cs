using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using FunctionalBackprop;
using FunctionalBackprop.Samples;
using Spectre.Console;

// The main job: train on the bundled MNIST digits. With no options it is Nielsen's chapter 1
// network: 784-30-10, sigmoid, quadratic cost, SGD with η = 3.0, mini-batches of 10, 30 epochs.
var data = new Option<string>("--data") { Description = "Folder with the four MNIST IDX files (.gz or raw).", DefaultValueFactory = _ => "data/mnist-10k" };
var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated (30 gives 784-30-10; 100,50 gives 784-100-50-10).", DefaultValueFactory = _ => "30" };
var activation = new Option<string>("--activation") { Description = "Hidden layers' activation.", DefaultValueFactory = _ => "sigmoid" };
activation.AcceptOnlyFromAmong(Settings.Activations);
var loss = new Option<string>("--loss") { Description = "Cost: quadratic (sigmoid outputs), cross-entropy (softmax outputs) or binary-cross-entropy (sigmoid outputs).", DefaultValueFactory = _ => "quadratic" };
loss.AcceptOnlyFromAmong(Settings.Losses);
var optimizer = new Option<string>("--optimizer") { Description = "How the weights move.", DefaultValueFactory = _ => "sgd" };
optimizer.AcceptOnlyFromAmong(Settings.Optimizers);
var rate = new Option<double>("--learning-rate", "--eta") { Description = "The learning rate η (Adam's α).", DefaultValueFactory = _ => 3.0 };
var momentum = new Option<double>("--momentum") { Description = "β for heavy-ball and Nesterov, μ for the lecture's momentum.", DefaultValueFactory = _ => 0.9 };
var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule: constant, inverse-time (η/t per step), step (×decay every 10 epochs), exponential (×decay per epoch), cosine (to η/100).", DefaultValueFactory = _ => "constant" };
schedule.AcceptOnlyFromAmong(Settings.Schedules);
var decay = new Option<double>("--decay") { Description = "The factor of the step and exponential schedules.", DefaultValueFactory = _ => 0.5 };
var init = new Option<string>("--init") { Description = "How first weights are drawn: standard-normal (network.py), scaled-normal (network2.py), xavier, he, small-uniform.", DefaultValueFactory = _ => "standard-normal" };
init.AcceptOnlyFromAmong(Settings.Initializers);
var epochs = new Option<int>("--epochs") { Description = "Epochs to train.", DefaultValueFactory = _ => 30 };
var batch = new Option<int>("--batch-size") { Description = "Examples per update: 1 is stochastic, 8000 (all) is batch descent.", DefaultValueFactory = _ => 10 };
var shards = new Option<int>("--shards") { Description = "Shards each mini-batch is split into, trained at once on as many cores; the same count gives the same bits on any machine.", DefaultValueFactory = _ => Environment.ProcessorCount };
var seed = new Option<long>("--seed") { Description = "Seed of the first weights and of the shuffles; the same seed gives the same run.", DefaultValueFactory = _ => 1 };
var l2 = new Option<double>("--l2") { Description = "L2 regularisation λ (network2.py's form); 0 turns it off.", DefaultValueFactory = _ => 0 };
var float32 = new Option<bool>("--float32") { Description = "Train in float32 instead of float64." };
var model = new Option<string>("--model") { Description = "Where to save the trained model.", DefaultValueFactory = _ => "out/mnist.fbnn" };
var plot = new Option<string>("--plot") { Description = "Where to save the learning curve (PNG).", DefaultValueFactory = _ => "out/learning-curve.png" };
var onnx = new Option<string?>("--onnx") { Description = "Also save the trained model as ONNX (opset 13, IR version 7) to this file, for ONNX Runtime and other ONNX consumers." };

// Ranges are checked while parsing, so a bad value is reported like any other option error.
void AtLeast<TValue>(Option<TValue> option, TValue least, string what)
    where TValue : IComparable<TValue> =>
    option.Validators.Add(result =>
    {
        var value = result.GetValueOrDefault<TValue>();
        if (value.CompareTo(least) < 0)
        {
            result.AddError($"{option.Name} must be {what}, got {value}.");
        }
    });

void Positive(Option<double> option) =>
    option.Validators.Add(result =>
    {
        var value = result.GetValueOrDefault<double>();
        if (!(value > 0) || !double.IsFinite(value))
        {
            result.AddError($"{option.Name} must be a positive number, got {value}.");
        }
    });

AtLeast(epochs, 1, "at least 1");
AtLeast(batch, 1, "at least 1");
AtLeast(shards, 1, "at least 1");
AtLeast(l2, 0.0, "0 or more");
Positive(rate);
momentum.Validators.Add(result =>
{
    var value = result.GetValueOrDefault<double>();
    if (!(value >= 0 && value < 1))
    {
        result.AddError($"--momentum must lie in [0, 1), got {value}.");
    }
});
decay.Validators.Add(result =>
{
    var value = result.GetValueOrDefault<double>();
    if (!(value > 0 && value <= 1))
    {
        result.AddError($"--decay must lie in (0, 1], got {value}.");
    }
});

var root = new RootCommand("Trains a feed-forward network on MNIST digits with FunctionalBackprop and reports test accuracy per epoch.")
{
    data, hidden, activation, loss, optimizer, rate, momentum, schedule, decay, init, epochs, batch, shards, seed, l2, float32, model, plot, onnx,
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        // One line per error, even where the parser's message lists the choices line by line.
        var message = string.Join(" ", error.Message.Split(new[] { '\n', '\r', '\t' }, StringSplitOptions.RemoveEmptyEntries).Select(part => part.Trim()));
        Console.Error.WriteLine($"error: {message}");
    }

    Console.Error.WriteLine("Run with --help to see the options.");
    return 2;
}

if (parsed.Action is not null && parsed.CommandResult.Command == root && args.Any(a => a is "--help" or "-h" or "-?" or "--version"))
{
    return parsed.Invoke();
}

try
{
    var settings = new Settings(
        Settings.FindData(parsed.GetValue(data)!), Settings.ParseHidden(parsed.GetValue(hidden)!), parsed.GetValue(activation)!, parsed.GetValue(loss)!,
        parsed.GetValue(optimizer)!, parsed.GetValue(rate), parsed.GetValue(momentum), parsed.GetValue(schedule)!, parsed.GetValue(decay),
        parsed.GetValue(init)!, parsed.GetValue(epochs), parsed.GetValue(batch), parsed.GetValue(shards), parsed.GetValue(seed), parsed.GetValue(l2),
        parsed.GetValue(float32), parsed.GetValue(model)!, parsed.GetValue(plot)!, parsed.GetValue(onnx));
    return settings.Float32 ? Trainer.Run<float>(settings) : Trainer.Run<double>(settings);
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or TrainingDivergedException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
