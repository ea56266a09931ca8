import asyncio, gc, sys, statistics
from bench import cost, seed
from bench.run import UA
from core.settings import Settings
db="mysql+pymysql://root@127.0.0.1:3306/bench_compiled"; r="redis://127.0.0.1:6379/13"
settings = Settings.from_env(cost.product_env(db, r) | {"GRAPHQL_EXECUTOR": sys.argv[1]})
admin = seed.create_admin(settings, UA)
if sys.argv[2] == "freeze":
    gc.freeze()
if sys.argv[2] == "off":
    gc.disable()
runs = asyncio.run(cost.measure("graphql-100", 150, 3, 100, settings, admin.token))
print(sys.argv[1:], [round(x*1e6) for x in runs], gc.get_count(), gc.get_stats()[2])
