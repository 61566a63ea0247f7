# bash completion for sbx-build
_sbx_build()
{
	local cur prev words cword
	_init_completion || return

	local commands="all build check clean fetch help lock pack plan pull push render scripts seed unpack verify"
	local i cmd= dir=.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-C) dir=${words[i + 1]}; ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-C) _filedir -d; return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-C -q -v --no-progress --version --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	# VM names are the 'vm:' keys of the recipes.
	local vms
	vms=$(sed -n 's/^vm:[[:space:]]*\([A-Za-z0-9_.-]*\).*/\1/p' "$dir"/recipes/*.yaml 2>/dev/null)
	case $cmd in
	build | plan | seed | scripts)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--offline --force --accel" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$vms" -- "$cur"))
		fi ;;
	render)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--force --secrets" -- "$cur"))
		elif ((cword == i + 1)); then
			COMPREPLY=($(compgen -W "$vms" -- "$cur"))
		else
			_filedir -d
		fi ;;
	all) COMPREPLY=($(compgen -W "--offline --force --accel" -- "$cur")) ;;
	fetch) COMPREPLY=($(compgen -W "--offline --cache --from --allow-http" -- "$cur")) ;;
	lock) COMPREPLY=($(compgen -W "--update --release --key --cache --allow-http" -- "$cur")) ;;
	clean) COMPREPLY=($(compgen -W "--all" -- "$cur")) ;;
	pack) COMPREPLY=($(compgen -W "-o --output --sign" -- "$cur")) ;;
	push) COMPREPLY=($(compgen -W "--sign --tls-verify=false" -- "$cur")) ;;
	pull) COMPREPLY=($(compgen -W "-C --allowed-signers --identity --tls-verify=false" -- "$cur")) ;;
	unpack)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-C --allowed-signers --identity" -- "$cur"))
		else
			_filedir
		fi ;;
	verify)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--manifest --accel" -- "$cur"))
		else
			_filedir qcow2
		fi ;;
	help) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
	esac
}
complete -F _sbx_build sbx-build
