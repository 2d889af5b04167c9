using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/Ingest.Benchmarks -- --filter '*' --job short
BenchmarkSwitcher.FromAssembly(typeof(Ingest.Benchmarks.GovernanceBenchmarks).Assembly).Run(args);
