# Collect triage data into C:\Windows\Temp\triage.txt
Get-Process | Out-File C:\Windows\Temp\triage.txt
