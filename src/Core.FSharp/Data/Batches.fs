namespace FunctionalBackprop.Core

open System

/// How an epoch is cut into mini-batches.
module Batches =

    /// ⌈n/m⌉ batches of m = min(batch size, n) examples each, the last one smaller when m does
    /// not divide n: batch descent is one batch, stochastic descent n of them.
    let perEpoch (examples: int) (batchSize: int) : int =
        if examples < 1 then raise (ArgumentOutOfRangeException("examples", examples, $"An epoch needs at least 1 example, got {examples}."))
        if batchSize < 1 then raise (ArgumentOutOfRangeException("batchSize", batchSize, $"The batch size must be at least 1, got {batchSize}."))
        let m = Math.Min(batchSize, examples)
        (examples + m - 1) / m
