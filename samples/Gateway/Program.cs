// A lane-aware YARP gateway configured only through appsettings.json (the mspider bookinfo seed):
// clients send x-mspider-laneid (or x-mspider-lane); the gateway sets x-mspider-lane, routes to the lane's
// productpage and falls back to green. Edit appsettings.json while it runs: lanes, policies and colouring reload.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddReverseProxy()
    .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
    .AddLanes();

var app = builder.Build();
if (app.Configuration.GetValue<bool>("LanesAdmin:Enabled"))
{
    app.MapLanesAdmin().AllowAnonymousOnLoopback();
}

app.MapReverseProxy(proxy =>
{
    proxy.UseLaneSubsets();
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});
app.Run();
