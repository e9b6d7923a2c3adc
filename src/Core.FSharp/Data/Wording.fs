namespace FunctionalBackprop.Core

/// Counts in messages, in the number of their noun: "1 unit", "3 units", "1 class", "2 classes".
module internal Wording =

    /// "1 unit", "0 units", "3 units": the noun with an s unless there is exactly one.
    let count (n: int) (noun: string) : string = if n = 1 then $"1 {noun}" else $"{n} {noun}s"

    /// "1 class", "2 classes": for nouns whose plural is not the noun and an s.
    let countWith (n: int) (singular: string) (plural: string) : string = if n = 1 then $"1 {singular}" else $"{n} {plural}"
