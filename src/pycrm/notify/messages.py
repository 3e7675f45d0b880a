"""The built-in message templates, in Simplified Chinese (``zh-CN``) and English (``en``).

These are the messages pycrm's automation sends. Each template's placeholders are its
context; the notifications page of the docs lists them, and a test renders every template
with exactly that list.
"""

# Chinese text is written with Chinese (full-width) punctuation, as its readers expect.
# ruff: noqa: RUF001

from __future__ import annotations

from pycrm.notify.templates import MessageTemplate

_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "follow_up_due": {
        "zh-CN": (
            "跟进提醒：$customer",
            "$rep 您好：\n\n您与 $customer 的跟进计划于 $due 到期。\n"
            "下一步行动：$next_action\n联系电话：$phone\n",
        ),
        "en": (
            "Follow-up due: $customer",
            "Hello $rep,\n\nYour follow-up with $customer is due on $due.\n"
            "Next action: $next_action\nPhone: $phone\n",
        ),
    },
    "visit_report_due": {
        "zh-CN": (
            "拜访报告待提交：$customer",
            "$rep 您好：\n\n您于 $visit_date 拜访了 $customer，请在 $due 前提交拜访报告。\n",
        ),
        "en": (
            "Visit report due: $customer",
            "Hello $rep,\n\nYou visited $customer on $visit_date. "
            "Please file the visit report by $due.\n",
        ),
    },
    "nurture_touch": {
        "zh-CN": (
            "培育触达：$customer",
            "$rep 您好：\n\n按培育计划，今天请联系 $customer 的 $contact，主题：$topic。\n",
        ),
        "en": (
            "Nurture touch: $customer",
            "Hello $rep,\n\nThe nurture plan has you contact $contact at $customer today "
            "about: $topic.\n",
        ),
    },
    "stale_opportunity": {
        "zh-CN": (
            "商机停滞：$opportunity",
            "$owner 您好：\n\n$customer 的商机「$opportunity」已在「$stage」阶段停留 $days 天，"
            "请推进或更新状态。\n",
        ),
        "en": (
            "Stale opportunity: $opportunity",
            "Hello $owner,\n\nThe opportunity \u201c$opportunity\u201d with $customer has been "
            "in stage \u201c$stage\u201d for $days days. Please move it on or update it.\n",
        ),
    },
    "stage_deadline_passed": {
        "zh-CN": (
            "商机逾期：$opportunity",
            "$owner 您好：\n\n$customer 的商机「$opportunity」在「$stage」阶段已超过截止时间 "
            "$deadline。团队未设主管，此提醒只发给您，请尽快推进。\n",
        ),
        "en": (
            "Past stage deadline: $opportunity",
            "Hello $owner,\n\nThe opportunity \u201c$opportunity\u201d with $customer passed "
            "the deadline of stage \u201c$stage\u201d on $deadline. Its team has no "
            "supervisor, so only you have been told; please move it on.\n",
        ),
    },
    "stage_deadline_escalation": {
        "zh-CN": (
            "商机逾期升级：$opportunity",
            "$supervisor 您好：\n\n$owner 负责的 $customer 商机「$opportunity」在「$stage」"
            "阶段已超过截止时间 $deadline，现升级给您处理。\n",
        ),
        "en": (
            "Escalation: $opportunity is past its stage deadline",
            "Hello $supervisor,\n\nThe opportunity \u201c$opportunity\u201d with $customer, "
            "owned by $owner, passed the deadline of stage \u201c$stage\u201d on $deadline "
            "and is escalated to you.\n",
        ),
    },
    "approval_pending": {
        "zh-CN": (
            "合同待审批：$contract",
            "$approver 您好：\n\n$submitted_by 提交的合同 $contract（客户：$customer，"
            "金额：$amount）正等待您的审批（$level）。\n",
        ),
        "en": (
            "Contract awaiting approval: $contract",
            "Hello $approver,\n\nContract $contract for $customer ($amount), submitted by "
            "$submitted_by, awaits your approval ($level).\n",
        ),
    },
    "sla_warning": {
        "zh-CN": (
            "SLA 预警：工单 $ticket",
            "$agent 您好：\n\n$customer 的工单 $ticket 的$target时限将于 $due 到期，"
            "剩余 $remaining。\n",
        ),
        "en": (
            "SLA warning: ticket $ticket",
            "Hello $agent,\n\nThe $target time of ticket $ticket for $customer runs out at "
            "$due; $remaining left.\n",
        ),
    },
    "sla_breach": {
        "zh-CN": (
            "SLA 已超时：工单 $ticket",
            "$agent 您好：\n\n$customer 的工单 $ticket 的$target时限已于 $due 到期，"
            "已超时 $overdue_by，请立即处理。\n",
        ),
        "en": (
            "SLA breached: ticket $ticket",
            "Hello $agent,\n\nThe $target time of ticket $ticket for $customer ran out at "
            "$due and is $overdue_by overdue. Please act now.\n",
        ),
    },
    "overdue_payment": {
        "zh-CN": (
            "回款逾期：$contract",
            "$owner 您好：\n\n$customer 的合同 $contract 有一笔 $amount 的款项应于 $due_date "
            "到账，已逾期 $days_overdue 天，请跟进催收。\n",
        ),
        "en": (
            "Payment overdue: $contract",
            "Hello $owner,\n\nA payment of $amount on contract $contract with $customer was "
            "due on $due_date and is $days_overdue days overdue. Please follow it up.\n",
        ),
    },
    "renewal_reminder": {
        "zh-CN": (
            "续约提醒：$contract",
            "$owner 您好：\n\n$customer 的合同 $contract 将于 $end_date 到期，"
            "请提前安排续约沟通。\n",
        ),
        "en": (
            "Renewal reminder: $contract",
            "Hello $owner,\n\nContract $contract with $customer ends on $end_date. "
            "Time to talk about renewing it.\n",
        ),
    },
    "repurchase_reminder": {
        "zh-CN": (
            "复购提醒：$customer",
            "$rep 您好：\n\n$customer 上次于 $last_purchase 购买了 $product，按周期现在可能"
            "需要再次采购。联系电话：$phone\n",
        ),
        "en": (
            "Repurchase reminder: $customer",
            "Hello $rep,\n\n$customer last bought $product on $last_purchase and is likely "
            "to need it again about now. Phone: $phone\n",
        ),
    },
    "birthday_greeting": {
        "zh-CN": (
            "生日快乐，$name！",
            "亲爱的 $name：\n\n祝您生日快乐，万事如意！感谢您一直以来的支持。\n\n$sender\n",
        ),
        "en": (
            "Happy birthday, $name!",
            "Dear $name,\n\nHappy birthday and all the best for the year ahead. "
            "Thank you for being with us.\n\n$sender\n",
        ),
    },
    "win_back": {
        "zh-CN": (
            "$name，好久不见",
            "亲爱的 $name：\n\n好久没有您的消息了，我们为您准备了：$offer。"
            "期待再次为您服务。\n\n$sender\n",
        ),
        "en": (
            "We miss you, $name",
            "Dear $name,\n\nIt has been a while. We have something for you: $offer. "
            "We would love to serve you again.\n\n$sender\n",
        ),
    },
    "satisfaction_survey": {
        "zh-CN": (
            "请评价我们的服务（工单 $ticket）",
            "亲爱的 $name：\n\n您的工单 $ticket 已处理完毕。请花一分钟为我们的服务打分"
            "（1–5 分）：$survey_url\n\n$sender\n",
        ),
        "en": (
            "How did we do? (ticket $ticket)",
            "Dear $name,\n\nYour ticket $ticket has been resolved. Please take a minute to "
            "rate our service from 1 to 5: $survey_url\n\n$sender\n",
        ),
    },
    "daily_activity_report": {
        "zh-CN": (
            "每日工作报告：$rep（$date）",
            "$rep $date 工作汇总：\n\n跟进记录：$interactions\n拜访：$visits\n"
            "新线索：$new_leads\n赢单：$deals_won\n\n$summary\n",
        ),
        "en": (
            "Daily activity report: $rep ($date)",
            "$rep on $date:\n\nInteractions: $interactions\nVisits: $visits\n"
            "New leads: $new_leads\nDeals won: $deals_won\n\n$summary\n",
        ),
    },
    "weekly_activity_report": {
        "zh-CN": (
            "每周工作报告：$rep（$week）",
            "$rep $week 工作汇总：\n\n跟进记录：$interactions\n拜访：$visits\n"
            "新线索：$new_leads\n赢单：$deals_won\n\n$summary\n",
        ),
        "en": (
            "Weekly activity report: $rep ($week)",
            "$rep in $week:\n\nInteractions: $interactions\nVisits: $visits\n"
            "New leads: $new_leads\nDeals won: $deals_won\n\n$summary\n",
        ),
    },
}


def builtin_templates() -> list[MessageTemplate]:
    """The built-in templates, new objects on each call."""
    return [MessageTemplate(name, texts) for name, texts in _TEMPLATES.items()]
