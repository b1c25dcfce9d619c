using System.Collections;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ProductionServing.Configuration;

/// <summary>
/// Binds the <c>ProductionServing</c> configuration section onto <see cref="ProductionServingOptions"/>
/// strictly: an unknown key or a value of the wrong form is recorded as a problem naming its key path
/// (reported by the validator together with every other problem) instead of being ignored or thrown
/// one at a time.
/// </summary>
/// <remarks>
/// We do not use <c>ConfigurationBinder</c> because it silently ignores misspelt keys, throws on the
/// first malformed value with a colon-separated path, leaves <c>"App": {}</c> (an empty object) null,
/// and appends a configured list to a default list instead of replacing it. Runs at startup and on
/// reload only, so reflection is fine here.
/// </remarks>
internal sealed class ServingSectionBinder(IConfiguration section) : IConfigureOptions<ProductionServingOptions>
{
    private const string OptionsNamespace = "ProductionServing";

    public void Configure(ProductionServingOptions options) =>
        BindObject(section, options, path: "", options.BindingErrors);

    private static void BindObject(IConfiguration config, object target, string path, List<string> errors)
    {
        var properties = target.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance);
        foreach (var child in config.GetChildren())
        {
            var property = Array.Find(properties, p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            var childPath = path.Length == 0 ? child.Key : path + "." + child.Key;
            if (property is null)
            {
                var known = string.Join(", ", Array.ConvertAll(properties, p => p.Name));
                errors.Add($"{childPath}: unknown setting; expected one of {known}.");
                continue;
            }

            BindProperty(child, target, property, path.Length == 0 ? property.Name : path + "." + property.Name, errors);
        }
    }

    private static void BindProperty(IConfigurationSection config, object target, PropertyInfo property, string path, List<string> errors)
    {
        var type = property.PropertyType;
        var hasChildren = config.GetChildren().Any();

        if (IsGeneric(type, typeof(IList<>), out var elementType))
        {
            if (!string.IsNullOrEmpty(config.Value))
            {
                errors.Add($"{path}: expects a list, not the value '{config.Value}'.");
                return;
            }

            // JSON [] arrives as an empty value and means an empty list; JSON null arrives as no value
            // and means "not set", keeping the default.
            if (config.Value is null && !hasChildren)
            {
                return;
            }

            var list = property.CanWrite ? (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType))! : (IList)property.GetValue(target)!;
            list.Clear();
            BindList(config, list, elementType, path, errors);
            if (property.CanWrite)
            {
                property.SetValue(target, list);
            }
        }
        else if (IsGeneric(type, typeof(IDictionary<,>), out var valueType))
        {
            if (!string.IsNullOrEmpty(config.Value))
            {
                errors.Add($"{path}: expects an object of named entries, not the value '{config.Value}'.");
                return;
            }

            var dictionary = (IDictionary)property.GetValue(target)!;
            foreach (var entry in config.GetChildren())
            {
                var value = dictionary.Contains(entry.Key) ? dictionary[entry.Key] : IsOptionsClass(valueType) ? Activator.CreateInstance(valueType) : null;
                if (BindElement(entry, valueType, ref value, path + "." + entry.Key, errors))
                {
                    dictionary[entry.Key] = value;
                }
            }
        }
        else if (type == typeof(CompressOptions) && !hasChildren && bool.TryParse(config.Value, out var on))
        {
            // nginx's "gzip on": true is the object with its defaults, false none.
            property.SetValue(target, on ? new CompressOptions() : null);
        }
        else if (IsOptionsClass(type))
        {
            // A key present with no children is an empty JSON object ({}): the object exists with its defaults.
            if (!string.IsNullOrEmpty(config.Value) && !hasChildren)
            {
                errors.Add($"{path}: expects an object, not the value '{config.Value}'.");
                return;
            }

            var value = property.GetValue(target) ?? Activator.CreateInstance(type)!;
            BindObject(config, value, path, errors);
            property.SetValue(target, value);
        }
        else if (hasChildren)
        {
            errors.Add($"{path}: expects a single value, not an object or a list.");
        }
        else if (TryConvert(config.Value, type, out var value, out var problem))
        {
            property.SetValue(target, value);
        }
        else
        {
            errors.Add($"{path}: {problem}");
        }
    }

    private static void BindList(IConfigurationSection config, IList list, Type elementType, string path, List<string> errors)
    {
        var items = new List<(int Index, IConfigurationSection Section)>();
        foreach (var item in config.GetChildren())
        {
            if (int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                items.Add((index, item));
            }
            else
            {
                errors.Add($"{path}: expects a list, but has the named entry '{item.Key}'.");
            }
        }

        items.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        foreach (var (_, item) in items)
        {
            object? value = IsOptionsClass(elementType) ? Activator.CreateInstance(elementType) : null;

            // A malformed element stays in the list as null, so later elements keep the index their
            // key path names (the validator reports the null as empty, too).
            list.Add(BindElement(item, elementType, ref value, $"{path}[{list.Count}]", errors) ? value : null);
        }
    }

    private static bool BindElement(IConfigurationSection config, Type type, ref object? value, string path, List<string> errors)
    {
        if (IsOptionsClass(type))
        {
            if (!string.IsNullOrEmpty(config.Value))
            {
                errors.Add($"{path}: expects an object, not the value '{config.Value}'.");
                return false;
            }

            BindObject(config, value!, path, errors);
            return true;
        }

        if (config.GetChildren().Any())
        {
            errors.Add($"{path}: expects a single value, not an object or a list.");
            return false;
        }

        if (config.Value is null)
        {
            errors.Add($"{path}: needs a value.");
            return false;
        }

        if (!TryConvert(config.Value, type, out value, out var problem))
        {
            errors.Add($"{path}: {problem}");
            return false;
        }

        return true;
    }

    internal static bool TryConvert(string? text, Type type, out object? value, out string problem)
    {
        value = null;
        problem = "";
        var underlying = Nullable.GetUnderlyingType(type);
        if (string.IsNullOrEmpty(text))
        {
            // An empty value (JSON null, or an empty environment variable) means "not set".
            if (type == typeof(string) || underlying is not null)
            {
                return true;
            }

            problem = "needs a value.";
            return false;
        }

        var target = underlying ?? type;
        if (target == typeof(string))
        {
            value = text;
            return true;
        }

        if (target == typeof(bool))
        {
            var ok = bool.TryParse(text, out var b);
            value = b;
            problem = $"'{text}' is not true or false.";
            return ok;
        }

        if (target == typeof(int))
        {
            var ok = int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i);
            value = i;
            problem = $"'{text}' is not a whole number.";
            return ok;
        }

        if (target == typeof(long))
        {
            var ok = long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l);
            value = l;
            problem = $"'{text}' is not a whole number.";
            return ok;
        }

        if (target == typeof(TimeSpan))
        {
            // A bare number parses as days ("10" is 10 days): require the hh:mm:ss form.
            var t = TimeSpan.Zero;
            var ok = text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out t);
            value = t;
            problem = $"'{text}' is not a duration; write it as hh:mm:ss (for example 00:00:05) or hh:mm:ss.fff.";
            return ok;
        }

        if (target.IsEnum)
        {
            // Enum.TryParse also accepts numbers and comma-separated flags; only a documented name is valid here.
            var names = Enum.GetNames(target);
            var name = Array.Find(names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            value = name is null ? null : Enum.Parse(target, name);
            problem = $"'{text}' is not one of {string.Join(", ", names)}.";
            return name is not null;
        }

        throw new NotSupportedException($"Options property type {type} is not supported by {nameof(ServingSectionBinder)}.");
    }

    private static bool IsOptionsClass(Type type) => type.IsClass && type.Namespace == OptionsNamespace;

    private static bool IsGeneric(Type type, Type definition, out Type lastArgument)
    {
        lastArgument = type;
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != definition)
        {
            return false;
        }

        var arguments = type.GetGenericArguments();
        lastArgument = arguments[^1];
        return true;
    }
}
