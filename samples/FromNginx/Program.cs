// The app that used to run behind nginx (see nginx.conf). Its appsettings.json, made from that nginx.conf by
// productionserving-import, now does nginx's part in-process: wwwroot, the cache headers, compression, the body
// limit, the login rate limit and the health answer; every other request reaches the endpoints below.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProductionServing(builder.Configuration.GetSection("ProductionServing"));

var app = builder.Build();
app.UseProductionServing();

Product[] products = [new(1, "Espresso cup", 9.5m), new(2, "Milk jug", 14m), new(3, "Tamper", 24.9m)];
app.MapGet("/api/products", () => products);
app.MapGet("/api/products/{id:int}", (int id) =>
    Array.Find(products, p => p.Id == id) is { } product ? Results.Ok(product) : Results.NotFound());
app.MapPost("/api/orders", (Order order) =>
    order.Quantity > 0 && Array.Exists(products, p => p.Id == order.ProductId)
        ? Results.Created($"/api/orders/{order.ProductId}-{order.Quantity}", order)
        : Results.BadRequest(new { error = "unknown product or no quantity" }));
app.MapPost("/login", () => Results.Text("welcome\n"));
app.MapGet("/account", () => Results.Content("<!doctype html><title>Account</title><h1>Your orders</h1>", "text/html"));

app.Run();

/// <summary>A product of the shop.</summary>
internal sealed record Product(int Id, string Name, decimal Price);

/// <summary>An order posted to the API.</summary>
internal sealed record Order(int ProductId, int Quantity);

/// <summary>The sample's entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
