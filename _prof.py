import asyncio, cProfile, pstats, sys
from bench import cost, seed
from bench.run import UA
from core.settings import Settings

db = "mysql+pymysql://root@127.0.0.1:3306/bench_compiled"
r = "redis://127.0.0.1:6379/14"
settings = Settings.from_env(cost.product_env(db, r) | {"GRAPHQL_EXECUTOR": sys.argv[1]})
admin = seed.create_admin(settings, UA)
prof = cProfile.Profile()
orig = cost.measure


async def run():
    return await cost.measure("graphql-100", 100, 1, 50, settings, admin.token)


import time

_pt = time.process_time
started = {}


def pt():
    return _pt()


prof.enable()
print(asyncio.run(run()))
prof.disable()
st = pstats.Stats(prof)
st.sort_stats("cumtime").print_stats(60)
