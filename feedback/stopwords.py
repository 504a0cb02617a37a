"""Stop words: the words left out of comment themes, in Chinese and English.

Sources: the Chinese list is a hand-picked subset of the HIT stop-word list (as
published in the goto456/stopwords collection) — pronouns, particles, conjunctions, auxiliaries,
degree adverbs and a few service filler words every comment uses (客服, 服务, 问题 stay: they
carry meaning when one side uses them more). The English list is a subset of NLTK's English stop
words (from the Snowball stemmer's list), lower case, without apostrophes in contractions kept
as the tokenizer splits them. Both kept short on purpose: the log-odds ratio with a prior already
stops frequent words that both sides use alike from ranking high; the list only keeps them off
the counts. Change a list and every cached token list is made again (``themes.dictionary_stamp``
includes them).

The Chinese words are data, not interface text: ``tests/test_i18n.py`` allows them here.
"""

from __future__ import annotations

ZH_STOP_WORDS = frozenset(
    (
        "的 了 着 过 地 得 之 吗 呢 吧 啊 呀 "
        "哦 嗯 哈 么 嘛 啦 "
        "我 你 您 他 她 它 我们 你们 他们 "
        "她们 自己 咱们 大家 "
        "这 那 这个 那个 这些 那些 这样 "
        "那样 这么 那么 这里 那里 哪 哪里 "
        "什么 怎么 怎么样 "
        "是 在 有 和 与 及 或 也 都 就 还 又 "
        "才 而 但 但是 而且 并且 因为 所以 "
        "如果 虽然 然后 "
        "很 非常 太 比较 特别 挺 更 最 真 "
        "真的 一直 已经 一 一个 一下 一点 "
        "个 些 次 把 被 让 "
        "给 对 从 向 到 为 以 于 跟 等 上 下 "
        "中 里 后 前 时 时候 没 没有 不 会 "
        "能 要 可以 想 "
        "说 看 做 去 来 好像 还是 就是 只是 "
        "而已 啥 呵呵 谢谢"
    ).split()
)


EN_STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t d ll m o re ve y don didn doesn isn wasn weren won wouldn couldn shouldn aren hasn haven
    hadn ain also get got really still even much many well like thanks thank please
    """.split()
)

STOP_WORDS = ZH_STOP_WORDS | EN_STOP_WORDS
