using BenchmarkDotNet.Running;

// Exit code 1 when any benchmark failed to run, so CI's dry run catches a benchmark that rotted.
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
var failed = summaries.Any(static s => s.HasCriticalValidationErrors || s.Reports.Any(static r => !r.Success));
return failed ? 1 : 0;
