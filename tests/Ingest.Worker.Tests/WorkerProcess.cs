using System.Diagnostics;

namespace Ingest.Worker.Tests;

/// <summary>
/// <c>dotnet Ingest.Worker.dll</c> in a child process with the given environment. <see cref="Kill"/> sends SIGKILL: no
/// shutdown hook, no drain, no offset commit, as when the kernel's OOM killer or a node failure ends a worker.
/// </summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    public WorkerProcess(IReadOnlyDictionary<string, string> environment)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Ingest.Worker.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start };
        // Read and drop its output: a full pipe would block the worker.
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>SIGKILL, then waits until the process is gone.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }
}
