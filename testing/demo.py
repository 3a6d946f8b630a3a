"""`burgerbeest sandbox --demo`: the bot's story, played through the real bot and the stand-in.

The same sandbox a newcomer types into reads a script: two residents with a dog idea are shown
each other and introduced, a resident's question about grofvuil reaches a civil servant and the
answer comes back, and a moderator sends an announcement to one kern. Buttons are pressed by
their label, as a person would. Lines starting with # are told, not typed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

from bot.config import Config
from testing.sandbox import Sandbox

SCRIPT = """\
# Anna from Velserbroek starts the bot and shares an idea.
/start
:press Akkoord
:press Velserbroek
:press @anna
/idee
Hondenspeeltuin in Velserbroek
Een omheind veldje waar honden los kunnen rennen, met een bankje en een prullenbak voor de baasjes.
Voor iedereen met een hond in Velserbroek.
:press Velserbroek
Bij de Zadelmakerstraat
:press meehelpen
:press Klaar
:press Ja, graag
:press Opslaan
# Bram, also from Velserbroek, has a similar idea in other words.
:as bram
/start
:press Akkoord
:press Velserbroek
:press link naar mijn Telegram-profiel
/idee
Losloopgebied voor honden
Een stuk grasveld waar honden zonder lijn mogen spelen, met een hek eromheen.
Voor hondenbezitters en hun honden.
:press Velserbroek
Park Velserbeek
:press Klaar
:press Ja, graag
:press Opslaan
# The bot shows Bram Anna's idea. Bram asks to be introduced; Anna says yes too.
:press stel me voor
:as anna
:press Ja, graag
# Piet works at the municipality. A moderator's invite makes him a civil servant.
:as piet
/start
:press Akkoord
:press IJmuiden
:press @piet
:invite ambtenaar piet
Piet de Vries
Afval en Reiniging
:press Melding openbare ruimte
:press Klaar
:press Klaar
Ik ben Piet en ik help je graag met afval en grofvuil.
:press niemand
# Anna asks the municipality a question.
:as anna
/vraag
Wanneer wordt het grofvuil in Velserbroek opgehaald? Er staat een oude bank bij mijn huis.
:press Afval, grofvuil en containers
Voor Zadelmakerstraat 10
:press Versturen
# Questions reach civil servants at set times on working days; :later jumps there.
:later
:as piet
:press Beantwoorden
Je kunt grofvuil gratis laten ophalen. Maak een afspraak op velsen.nl/grofvuil.
:press Versturen
# Mo is a moderator and tells everyone in Velserbroek about a clean-up day.
:invite moderator mo
/mededeling
Zaterdag 13 juni is er een opschoondag in Velserbroek. Doe je mee? We beginnen om 10:00.
:press kernen
:press Velserbroek
:press Klaar
:press Nu versturen
:press Ja, naar
# And looks at the figures: the chart is saved as a file.
/stats
"""
TRY_IT = (
    "That was the demo. Try it yourself: run  burgerbeest sandbox  and type /start"
    " (:help lists the sandbox's commands)."
)


async def script_lines(script: str = SCRIPT) -> AsyncIterator[str]:
    for line in script.splitlines():
        yield line


async def run_demo(
    config: Config, directory: Path, out: Callable[[str], None] = print, script: str = SCRIPT
) -> int:
    """Play `script` through a sandbox in `directory` and print the conversation."""
    out(
        f"Burgerbeest {config.municipality.name}: a demo in the sandbox. The real bot runs against"
        " a stand-in of Telegram on this machine; the people's lines are typed by a script."
    )
    sandbox = Sandbox(config, directory, out, echo=True)
    status = await sandbox.run(script_lines(script), banner=False)
    out(f"\n{TRY_IT}")
    return status
