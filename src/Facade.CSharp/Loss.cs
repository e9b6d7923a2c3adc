namespace FunctionalBackprop;

/// <summary>The cost a network is trained to minimise; a batch's cost is the mean over its examples.</summary>
public enum Loss
{
    /// <summary>½‖a − y‖², for any output activation.</summary>
    Quadratic,

    /// <summary>−Σ y ln a, for softmax (or sigmoid) outputs; targets one-hot or probabilities.</summary>
    CrossEntropy,

    /// <summary>−Σ [y ln a + (1 − y) ln(1 − a)], one yes/no decision per sigmoid output.</summary>
    BinaryCrossEntropy,
}
