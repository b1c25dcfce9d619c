namespace ProductionServing.Configuration;

/// <summary>Validation of one <see cref="PoolOptions"/>.</summary>
internal static class PoolRules
{
    public static void Validate(string path, PoolOptions? pool, List<string> errors)
    {
        if (pool is null)
        {
            errors.Add($"{path}: is empty; give the pool's settings or remove it.");
            return;
        }

        Rules.AtLeast(errors, path + ".MaxConcurrency", pool.MaxConcurrency, 1);
        Rules.AtLeast(errors, path + ".QueueLimit", pool.QueueLimit, 0);
        Rules.NotNegative(errors, path + ".QueueTimeout", pool.QueueTimeout);
        Rules.Positive(errors, path + ".TargetQueueDelay", pool.TargetQueueDelay);
        if (pool.RequestTimeout is { } requestTimeout)
        {
            Rules.Positive(errors, path + ".RequestTimeout", requestTimeout);
        }

        if (pool.DedicatedThreads)
        {
            if (pool.Workers is { } workers)
            {
                Rules.AtLeast(errors, path + ".Workers", workers, 1);
            }
            else
            {
                errors.Add($"{path}.Workers: is required with DedicatedThreads: true (the number of worker threads).");
            }
        }
        else if (pool.Workers is not null)
        {
            errors.Add($"{path}.Workers: applies only with DedicatedThreads: true; set DedicatedThreads, or use MaxConcurrency to limit a thread-pool pool.");
        }
    }
}
