using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Drift.Train.Cli;

/// <summary>Log lines written through Spectre.Console, so they appear above a live progress bar instead of
/// tearing it (the console logger writes to the terminal behind Spectre's back).</summary>
public sealed class LiveConsoleLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new LiveConsoleLogger();

    public void Dispose() { }

    private sealed class LiveConsoleLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            var color = logLevel >= LogLevel.Warning ? "yellow" : "grey";
            AnsiConsole.MarkupLineInterpolated($"[{color}]{DateTime.Now:HH:mm:ss}[/] {formatter(state, exception)}");
        }
    }
}
