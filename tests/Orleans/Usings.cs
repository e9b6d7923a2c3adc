// The cluster's tests share one cluster and stop its silos: they run one at a time, so that
// timings (silo stops, timeouts) never compete with another test on the machine's 2 cores.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
