using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ProductionServing.Benchmarks.LocationSelectionBenchmarks).Assembly).Run(args);
