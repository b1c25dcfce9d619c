using Microsoft.Extensions.Logging;

namespace ProductionServing.Pools;

/// <summary>
/// The worker threads of a pool with <c>DedicatedThreads</c>: idle ones wait for a request, busy ones
/// run one. Not thread-safe: the owning <see cref="WorkerPool"/> calls it under its lock, so an admitted
/// request always finds an idle worker (there are never fewer idle workers than free slots).
/// </summary>
internal sealed class DedicatedWorkers(string poolName, ILogger logger)
{
    private readonly Stack<WorkerThread> _idle = new();
    private readonly HashSet<WorkerThread> _all = [];
    private int _target;
    private int _lastNumber;

    /// <summary>How many stuck workers were replaced so far.</summary>
    public int Replacements { get; private set; }

    /// <summary>Sets the number of workers: starts the missing ones now; surplus ones end once idle.</summary>
    public void Resize(int target)
    {
        _target = target;
        while (_all.Count < target)
        {
            _idle.Push(StartWorker());
        }

        while (_all.Count > target && _idle.TryPop(out var surplus))
        {
            Retire(surplus);
        }
    }

    /// <summary>An idle worker for an admitted request.</summary>
    public WorkerThread Take() => _idle.TryPop(out var worker) ? worker : StartWorker(); // the fallback is never needed while the invariant holds

    /// <summary>A worker whose request ended: idle again, or ended when the pool has too many.</summary>
    public void Return(WorkerThread worker)
    {
        if (!_all.Contains(worker))
        {
            worker.Stop(); // abandoned, or from before the pool last dropped its dedicated threads
            return;
        }

        if (_all.Count > _target)
        {
            Retire(worker);
        }
        else
        {
            _idle.Push(worker);
        }
    }

    /// <summary>
    /// Abandons a stuck worker and starts a fresh one in its place, unless the pool is shrinking or stopping
    /// (<paramref name="fresh"/> is then <see langword="null"/>). Returns <see langword="false"/> when there
    /// is nothing to replace: the stuck one is not among these workers (the pool switched its threads off
    /// and on meanwhile).
    /// </summary>
    public bool Replace(WorkerThread stuck, out string? fresh)
    {
        fresh = null;
        if (!_all.Remove(stuck))
        {
            return false;
        }

        Replacements++;
        if (_all.Count < _target)
        {
            var worker = StartWorker();
            _idle.Push(worker);
            fresh = worker.Name;
        }

        _ = stuck.Exited.ContinueWith(static (_, s) => ((ReplacedWorker)s!).Exited(), new ReplacedWorker(poolName, stuck.Name, logger),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return true;
    }

    /// <summary>Ends every worker once idle; returns when those already idle have ended, busy ones follow their request.</summary>
    public Task StopAll()
    {
        _target = 0;
        var exits = new List<Task>(_idle.Count);
        while (_idle.TryPop(out var worker))
        {
            exits.Add(worker.Exited);
            Retire(worker);
        }

        return Task.WhenAll(exits);
    }

    private WorkerThread StartWorker()
    {
        var worker = new WorkerThread($"ProductionServing worker {poolName}#{++_lastNumber}", logger);
        _all.Add(worker);
        return worker;
    }

    private void Retire(WorkerThread worker)
    {
        _all.Remove(worker);
        worker.Stop();
    }

    private sealed class ReplacedWorker(string pool, string worker, ILogger logger)
    {
        public void Exited() => PoolLog.AbandonedWorkerExited(logger, pool, worker);
    }
}
