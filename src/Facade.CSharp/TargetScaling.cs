namespace FunctionalBackprop;

/// <summary>
/// Whether <see cref="NeuralNetwork{T}.Fit(Dataset{T}, FitOptions{T}?, System.IProgress{EpochReport}?, System.Threading.CancellationToken)"/>
/// scales a regression network's targets (<see cref="FitOptions{T}.TargetScaling"/>).
/// </summary>
public enum TargetScaling
{
    /// <summary>
    /// The default: when the network has no <see cref="NeuralNetwork{T}.TargetScaler"/> and its
    /// output layer gives any real value (no activation, or leaky ReLU), fit a standard scaler to
    /// the training targets, y′ = (y − μ)/σ per output, and train on y′; the trained network
    /// keeps the scaler, so Predict answers in the targets' units. Adam's steps and the first
    /// weights suit values of about 1; targets in the hundreds take hundreds of epochs to reach
    /// otherwise. Classifiers and bounded outputs (tanh, ReLU) are never scaled.
    /// </summary>
    Standard,

    /// <summary>Train on the targets as given (a target scaler the network already has is still used).</summary>
    None,
}
