namespace Ingest.Core.Governance;

/// <summary>
/// Holds the rules in force: the built-in ones, or a rules file that is watched and reloaded on change. A file that
/// fails to load is rejected (with the line and key at fault) and the previous rules stay in force.
/// </summary>
public sealed class GovernanceRulesProvider : IDisposable
{
    private readonly string? _path;
    private readonly string? _taxonomy;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer? _debounce;
    private volatile GovernanceRules _current;
    private volatile string? _lastReloadError;

    /// <summary>Loads the rules; a bad file at start-up throws <see cref="GovernanceRulesException"/> (fail fast).</summary>
    public GovernanceRulesProvider(string? path, string? taxonomy = null)
    {
        _path = string.IsNullOrWhiteSpace(path) ? null : Path.GetFullPath(path);
        _taxonomy = string.IsNullOrWhiteSpace(taxonomy) ? null : taxonomy;
        _current = Load();
        if (_path is not null)
        {
            _debounce = new Timer(_ => Reload(), null, Timeout.Infinite, Timeout.Infinite);
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            FileSystemEventHandler changed = (_, _) => _debounce.Change(200, Timeout.Infinite);
            _watcher.Changed += changed;
            _watcher.Created += changed;
            _watcher.Renamed += (_, _) => _debounce.Change(200, Timeout.Infinite);
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>The rules in force.</summary>
    public GovernanceRules Current => _current;

    /// <summary>Why the last reload was rejected (the previous rules stay in force), or null when it succeeded.</summary>
    public string? LastReloadError => _lastReloadError;

    /// <summary>Raised after every reload attempt: null on success, else the rejection message.</summary>
    public event Action<string?>? Reloaded;

    /// <summary>Reads the file again now (also called by the file watcher).</summary>
    public void Reload()
    {
        try
        {
            _current = Load();
            _lastReloadError = null;
            Reloaded?.Invoke(null);
        }
        catch (Exception ex) when (ex is GovernanceRulesException or IOException or UnauthorizedAccessException)
        {
            _lastReloadError = ex.Message;
            Reloaded?.Invoke(ex.Message);
        }
    }

    private GovernanceRules Load()
    {
        var rules = _path is null ? GovernanceRules.Default : GovernanceRules.Parse(ReadShared(_path), Path.GetFileName(_path));
        return _taxonomy is null ? rules : rules.WithTaxonomy(_taxonomy);
    }

    // Editors often hold the file open for a moment while saving; share it and retry briefly.
    private static string ReadShared(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                return reader.ReadToEnd();
            }
            catch (IOException) when (attempt < 3)
            {
                Thread.Sleep(50);
            }
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
    }
}
